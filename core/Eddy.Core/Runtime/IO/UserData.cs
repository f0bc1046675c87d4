namespace Eddy.Runtime.IO;

/// <summary>io_uring user_data layout: a tag in the top byte saying what kind of owner, and the owner's slot below.</summary>
internal static class UserData
{
    public const byte Operation = 1;
    public const byte LinkedWrite = 2;
    public const byte Receive = 3;
    public const byte Accept = 4;
    public const byte Wake = 5;
    public const byte Ignore = 6;

    public static ulong Make(byte tag, int slot) => ((ulong)tag << 56) | (uint)slot;

    public static byte Tag(ulong userData) => (byte)(userData >> 56);

    public static int Slot(ulong userData) => (int)(uint)userData;
}

/// <summary>Owners of in-flight requests, by slot. A slot is freed only after its last completion arrives.</summary>
internal sealed class SlotTable
{
    private object?[] _owners = new object?[256];
    private readonly Stack<int> _free = new();
    private int _next;

    public object? this[int slot] => _owners[slot];

    public int Add(object owner)
    {
        int slot;
        if (_free.Count > 0)
        {
            slot = _free.Pop();
        }
        else
        {
            if (_next == _owners.Length)
            {
                Array.Resize(ref _owners, _owners.Length * 2);
            }
            slot = _next++;
        }
        _owners[slot] = owner;
        return slot;
    }

    public void Free(int slot)
    {
        if (_owners[slot] is null)
        {
            throw new InvalidOperationException($"slot {slot} freed twice");
        }
        _owners[slot] = null;
        _free.Push(slot);
    }

    public List<(int Slot, object Owner)> Live()
    {
        var live = new List<(int, object)>();
        for (int i = 0; i < _next; i++)
        {
            if (_owners[i] is { } owner)
            {
                live.Add((i, owner));
            }
        }
        return live;
    }
}
