namespace Capstan.Core.Spans;

using Capstan.Core.Model;

/// <summary>
/// A key range [StartKey, EndKey) of one table. By default a table is one whole-table span
/// (<see cref="TableSpans.WholeTable"/>); optionally a table is split into several spans.
/// </summary>
/// <remarks>
/// The two keys are kept in one array, copied at construction and never written afterwards (one
/// object per span instead of two). Null and empty keys are equal. Equality is over all three
/// fields, and the order (see
/// <see cref="CompareTo"/>) is a total lexicographic order consistent with equality: TableId,
/// then StartKey, then EndKey, keys compared as unsigned bytes. (The Go original ignores EndKey in
/// map identity and its comparator is not a strict order when TableId and StartKey disagree.)
/// </remarks>
public readonly struct Span : IEquatable<Span>, IComparable<Span>
{
    /// <summary>Start key followed by end key, in one array (one object per span instead of two); null when both are empty.</summary>
    private readonly byte[]? _keys;

    /// <summary>Length of the start key at the front of <see cref="_keys"/>.</summary>
    private readonly int _startLength;

    /// <summary>Creates a span; the keys are copied (into one array).</summary>
    public Span(TableId tableId, byte[]? startKey, byte[]? endKey)
        : this(tableId, (ReadOnlySpan<byte>)startKey, (ReadOnlySpan<byte>)endKey)
    {
    }

    /// <summary>Creates a span; the keys are copied (into one array).</summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Span(TableId tableId, ReadOnlySpan<byte> startKey, ReadOnlySpan<byte> endKey)
    {
        TableId = tableId;
        if (startKey.IsEmpty && endKey.IsEmpty)
        {
            return;
        }

        var keys = new byte[startKey.Length + endKey.Length];
        startKey.CopyTo(keys);
        endKey.CopyTo(keys.AsSpan(startKey.Length));
        _keys = keys;
        _startLength = startKey.Length;
    }

    /// <summary>A span that carries only a table id and no keys (used by tests and benchmarks, as TiCDC's).</summary>
    public Span(TableId tableId)
    {
        TableId = tableId;
    }

    /// <summary>The table this span belongs to.</summary>
    public TableId TableId { get; }

    /// <summary>Inclusive start key.</summary>
    public ReadOnlySpan<byte> StartKey => _keys is null ? default : new ReadOnlySpan<byte>(_keys, 0, _startLength);

    /// <summary>Exclusive end key.</summary>
    public ReadOnlySpan<byte> EndKey => _keys is null ? default : new ReadOnlySpan<byte>(_keys, _startLength, _keys.Length - _startLength);

    /// <summary>The start key without a copy (for serialisers).</summary>
    public ReadOnlyMemory<byte> StartKeyMemory => _keys is null ? default : new ReadOnlyMemory<byte>(_keys, 0, _startLength);

    /// <summary>The end key without a copy (for serialisers).</summary>
    public ReadOnlyMemory<byte> EndKeyMemory => _keys is null ? default : new ReadOnlyMemory<byte>(_keys, _startLength, _keys.Length - _startLength);

    /// <summary>A copy of the start key (null when empty).</summary>
    public byte[]? StartKeyArray => StartKey.IsEmpty ? null : StartKey.ToArray();

    /// <summary>A copy of the end key (null when empty).</summary>
    public byte[]? EndKeyArray => EndKey.IsEmpty ? null : EndKey.ToArray();

    /// <summary>True for the default value (table 0, no keys).</summary>
    public bool IsEmpty => TableId.Value == 0 && _keys is null;

    /// <inheritdoc/>
    /// <remarks>A span copied from another shares its key array and is equal without reading it.</remarks>
    public bool Equals(Span other) =>
        TableId.Value == other.TableId.Value
        && _startLength == other._startLength
        && (ReferenceEquals(_keys, other._keys) || ((ReadOnlySpan<byte>)_keys).SequenceEqual(other._keys));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Span other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(TableId.Value);
        hash.AddBytes(StartKey);
        hash.AddBytes(EndKey);
        return hash.ToHashCode();
    }

    /// <summary>Total order: TableId, then StartKey, then EndKey (unsigned byte-wise).</summary>
    public int CompareTo(Span other)
    {
        int c = TableId.Value.CompareTo(other.TableId.Value);
        if (c != 0)
        {
            return c;
        }

        if (ReferenceEquals(_keys, other._keys) && _startLength == other._startLength)
        {
            return 0;
        }

        c = StartKey.SequenceCompareTo(other.StartKey);
        return c != 0 ? c : EndKey.SequenceCompareTo(other.EndKey);
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(Span left, Span right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Span left, Span right) => !left.Equals(right);

    /// <summary>Order.</summary>
    public static bool operator <(Span left, Span right) => left.CompareTo(right) < 0;

    /// <summary>Order.</summary>
    public static bool operator >(Span left, Span right) => left.CompareTo(right) > 0;

    /// <summary>Order.</summary>
    public static bool operator <=(Span left, Span right) => left.CompareTo(right) <= 0;

    /// <summary>Order.</summary>
    public static bool operator >=(Span left, Span right) => left.CompareTo(right) >= 0;

    /// <summary>"{table 5 [7480…, 7480…)}"; keys in hex, shortened.</summary>
    public override string ToString()
    {
        if (_keys is null)
        {
            return $"{{table {TableId}}}";
        }

        return $"{{table {TableId} [{Hex(StartKey)}, {Hex(EndKey)})}}";
    }

    private static string Hex(ReadOnlySpan<byte> key) => Convert.ToHexString(key);
}
