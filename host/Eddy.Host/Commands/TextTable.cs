namespace Eddy.Host.Commands;

/// <summary>Rows printed as aligned columns, the header in capitals, as `rpk` and `kafka-topics` print them.</summary>
internal sealed class TextTable(params string[] header)
{
    private readonly List<string[]> _rows = [header];

    public void Add(params object?[] cells) => _rows.Add(cells.Select(c => c?.ToString() ?? "").ToArray());

    public void WriteTo(TextWriter output)
    {
        var widths = Enumerable.Range(0, _rows[0].Length).Select(i => _rows.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
        foreach (var row in _rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
