using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Eddy.Config;

/// <summary>One <c>key: value</c> of eddy.yaml; a YAML list arrives joined with commas, as a flag would write it.</summary>
public readonly record struct ConfigFileEntry(string Key, string Value, int Line, bool IsList);

/// <summary>
/// Reads eddy.yaml: a mapping of keys to scalars or lists of scalars, either at the top level or inside a top-level
/// <c>eddy:</c> section (as Redpanda nests its node settings under <c>redpanda:</c>). Anything else (a nested mapping,
/// an anchor or alias, a tag, a second document, an empty value) is refused with file:line.
/// </summary>
/// <remarks>
/// YamlDotNet's low-level <see cref="Parser"/> reads the text: it is a complete, well-tested YAML scanner (quoting,
/// escapes, comments, flow lists, error positions), and it uses no reflection, so the NativeAOT binary trims it without
/// warnings. A hand-written parser for "the subset we accept" would have to re-learn YAML's quoting and comment rules
/// to refuse what it does not understand; the object deserializer would need reflection or a source generator. So the
/// events are walked here and every shape other than the one above is refused.
/// </remarks>
public static class NodeConfigFile
{
    public const string SectionName = "eddy";

    /// <summary>The entries of <paramref name="path"/> in file order, and one message per problem (each starting with path:line).</summary>
    public static (List<ConfigFileEntry> Entries, List<(int Line, string Message)> Errors) Read(string path, string text)
    {
        var entries = new List<ConfigFileEntry>();
        var errors = new List<(int, string)>();
        var walk = new Walk(path, new Parser(new StringReader(text)), entries, errors);
        try
        {
            walk.Document();
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages repeat the position as "(Line: 3, Col: 5, ...)"; ours leads with path:line.
            string message = e.Message;
            int paren = message.IndexOf("(Line:", StringComparison.Ordinal);
            if (paren > 0)
            {
                int close = message.IndexOf(')', paren);
                message = (message[..paren] + (close > 0 ? message[(close + 1)..] : "")).Trim().TrimStart(':').Trim();
            }
            errors.Add(((int)e.Start.Line, $"{path}:{e.Start.Line}: not valid YAML: {message}"));
        }
        return (entries, errors);
    }

    private sealed class Walk(string path, Parser parser, List<ConfigFileEntry> entries, List<(int, string)> errors)
    {
        public void Document()
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return; // an empty file
            }
            parser.Consume<DocumentStart>();
            if (parser.Accept<Scalar>(out var empty) && IsNull(empty))
            {
                parser.Consume<Scalar>(); // a file of comments only
            }
            else if (parser.TryConsume<MappingStart>(out var mapping))
            {
                if (Decorated(mapping))
                {
                    Error(mapping, "anchors and tags are not read here");
                }
                Mapping(topLevel: true);
            }
            else
            {
                Error(parser.Current!, "the file must be a mapping of keys to values (key: value, one per line)");
                SkipNode();
            }
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                Error(parser.Current!, "only one YAML document is read; remove the second '---'");
            }
        }

        private void Mapping(bool topLevel)
        {
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                if (!parser.TryConsume<Scalar>(out var key))
                {
                    Error(parser.Current!, "a key must be a name (kafka_addr: ...), not a list or a section");
                    SkipNode(); // the key
                    SkipNode(); // its value
                    continue;
                }
                if (Decorated(key))
                {
                    Error(key, $"{key.Value}: anchors and tags are not read here");
                    SkipNode();
                    continue;
                }
                if (topLevel && key.Value == SectionName && parser.TryConsume<MappingStart>(out var section))
                {
                    if (Decorated(section))
                    {
                        Error(section, "anchors and tags are not read here");
                    }
                    Mapping(topLevel: false);
                    continue;
                }
                Value(key);
            }
        }

        private void Value(Scalar key)
        {
            if (parser.TryConsume<Scalar>(out var scalar))
            {
                if (Decorated(scalar))
                {
                    Error(scalar, $"{key.Value}: anchors and tags are not read here");
                }
                else if (IsNull(scalar))
                {
                    Error(key, $"{key.Value}: has no value");
                }
                else
                {
                    entries.Add(new ConfigFileEntry(key.Value, scalar.Value, Line(key), IsList: false));
                }
            }
            else if (parser.TryConsume<SequenceStart>(out var sequence))
            {
                var items = new List<string>();
                bool ok = !Decorated(sequence);
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    if (parser.TryConsume<Scalar>(out var item) && !Decorated(item) && !IsNull(item))
                    {
                        items.Add(item.Value);
                    }
                    else
                    {
                        ok = false;
                        SkipNode();
                    }
                }
                if (ok)
                {
                    entries.Add(new ConfigFileEntry(key.Value, string.Join(',', items), Line(key), IsList: true));
                }
                else
                {
                    Error(key, $"{key.Value}: a list holds plain values only");
                }
            }
            else
            {
                string what = parser.Current is MappingStart
                    ? $"is a nested section; only a top-level '{SectionName}:' section is read"
                    : "aliases are not read here";
                Error(key, $"{key.Value}: {what}");
                SkipNode();
            }
        }

        /// <summary>Consumes one node (scalar, alias, or a whole mapping or sequence) without reading it.</summary>
        private void SkipNode()
        {
            int depth = 0;
            do
            {
                var e = parser.Consume<ParsingEvent>();
                depth += e.NestingIncrease;
            }
            while (depth > 0);
        }

        // YAML's null: an empty plain value (`key:`), ~ or null. A node setting has no "unset" value to write.
        private static bool IsNull(Scalar s) => s.Style is ScalarStyle.Plain && s.Value is "" or "~" or "null" or "Null" or "NULL";

        private static bool Decorated(NodeEvent e) => !e.Anchor.IsEmpty || !e.Tag.IsEmpty;

        private static int Line(ParsingEvent e) => (int)e.Start.Line;

        private void Error(ParsingEvent at, string message) => errors.Add((Line(at), $"{path}:{Line(at)}: {message}"));
    }
}
