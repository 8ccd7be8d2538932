namespace Capstan.Core.Spans;

using Capstan.Core.Model;

/// <summary>
/// A key range [StartKey, EndKey) of one table. By default a table is one whole-table span
/// (<see cref="TableSpans.WholeTable"/>); optionally a table is split into several spans.
/// </summary>
/// <remarks>
/// Keys are immutable by convention: nobody writes into the arrays after construction. Null and
/// empty keys are equal. Equality is over all three fields, and the order (see
/// <see cref="CompareTo"/>) is a total lexicographic order consistent with equality: TableId,
/// then StartKey, then EndKey, keys compared as unsigned bytes. (The Go original ignores EndKey in
/// map identity and its comparator is not a strict order when TableId and StartKey disagree.)
/// </remarks>
public readonly struct Span : IEquatable<Span>, IComparable<Span>
{
    private readonly byte[]? _startKey;
    private readonly byte[]? _endKey;

    /// <summary>Creates a span. The arrays are taken, not copied: do not modify them afterwards.</summary>
    public Span(TableId tableId, byte[]? startKey, byte[]? endKey)
    {
        TableId = tableId;
        _startKey = startKey is { Length: 0 } ? null : startKey;
        _endKey = endKey is { Length: 0 } ? null : endKey;
    }

    /// <summary>A span that carries only a table id and no keys (used by tests and benchmarks, as TiCDC's).</summary>
    public Span(TableId tableId) : this(tableId, null, null)
    {
    }

    /// <summary>The table this span belongs to.</summary>
    public TableId TableId { get; }

    /// <summary>Inclusive start key.</summary>
    public ReadOnlySpan<byte> StartKey => _startKey;

    /// <summary>Exclusive end key.</summary>
    public ReadOnlySpan<byte> EndKey => _endKey;

    /// <summary>The start key as an array (null when empty); for serialisers.</summary>
    public byte[]? StartKeyArray => _startKey;

    /// <summary>The end key as an array (null when empty); for serialisers.</summary>
    public byte[]? EndKeyArray => _endKey;

    /// <summary>True for the default value (table 0, no keys).</summary>
    public bool IsEmpty => TableId.Value == 0 && _startKey is null && _endKey is null;

    /// <inheritdoc/>
    public bool Equals(Span other) =>
        TableId.Value == other.TableId.Value
        && SameKey(_startKey, other._startKey)
        && SameKey(_endKey, other._endKey);

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
        if (_startKey is null && _endKey is null)
        {
            return $"{{table {TableId}}}";
        }

        return $"{{table {TableId} [{Hex(StartKey)}, {Hex(EndKey)})}}";
    }

    private static string Hex(ReadOnlySpan<byte> key) => Convert.ToHexString(key);

    /// <summary>Key equality; the same array (a span copied from another) is equal without reading it.</summary>
    private static bool SameKey(byte[]? left, byte[]? right) =>
        ReferenceEquals(left, right) || ((ReadOnlySpan<byte>)left).SequenceEqual(right);
}
