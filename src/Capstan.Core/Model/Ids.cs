namespace Capstan.Core.Model;

/// <summary>Identity of one capture (one Capstan server process). Empty means "none".</summary>
public readonly record struct CaptureId(string Value) : IComparable<CaptureId>
{
    /// <summary>The absent capture ("" in TiCDC).</summary>
    public static readonly CaptureId None = new(string.Empty);

    private readonly string? _value = Value;

    /// <summary>The raw id; never null (also for the default value, whose field is null).</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>True when this is <see cref="None"/>.</summary>
    public bool IsNone => Value.Length == 0;

    /// <inheritdoc/>
    public int CompareTo(CaptureId other) => string.CompareOrdinal(Value, other.Value);

    /// <inheritdoc/>
    public bool Equals(CaptureId other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => string.GetHashCode(Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Value;

    /// <summary>Wraps a string.</summary>
    public static implicit operator CaptureId(string value) => new(value);
}

/// <summary>Identity of one upstream table.</summary>
public readonly record struct TableId(long Value) : IComparable<TableId>
{
    /// <inheritdoc/>
    public int CompareTo(TableId other) => Value.CompareTo(other.Value);

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Wraps a number.</summary>
    public static implicit operator TableId(long value) => new(value);
}

/// <summary>Identity of one changefeed.</summary>
public readonly record struct ChangefeedId(string Value)
{
    private readonly string? _value = Value;

    /// <summary>The raw id; never null (also for the default value, whose field is null).</summary>
    public string Value => _value ?? string.Empty;

    /// <inheritdoc/>
    public bool Equals(ChangefeedId other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => string.GetHashCode(Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Value;

    /// <summary>Wraps a string.</summary>
    public static implicit operator ChangefeedId(string value) => new(value);
}

/// <summary>
/// The owner revision: the etcd revision of the owner key when the owner won its election.
/// It increases across elections and identifies one owner term; messages of older terms are stale.
/// </summary>
public readonly record struct OwnerRevision(long Value) : IComparable<OwnerRevision>
{
    /// <inheritdoc/>
    public int CompareTo(OwnerRevision other) => Value.CompareTo(other.Value);

    /// <summary>Orders revisions.</summary>
    public static bool operator <(OwnerRevision a, OwnerRevision b) => a.Value < b.Value;

    /// <summary>Orders revisions.</summary>
    public static bool operator >(OwnerRevision a, OwnerRevision b) => a.Value > b.Value;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Identifies one incarnation of an agent. Unlike the Go original (which always sends ""),
/// every agent incarnation gets a fresh epoch from its host.
/// </summary>
public readonly record struct ProcessorEpoch(string Value)
{
    /// <summary>The empty epoch, used before a capture is known.</summary>
    public static readonly ProcessorEpoch None = new(string.Empty);

    private readonly string? _value = Value;

    /// <summary>The raw epoch; never null (also for the default value, whose field is null).</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>True when this is the empty epoch.</summary>
    public bool IsNone => Value.Length == 0;

    /// <inheritdoc/>
    public bool Equals(ProcessorEpoch other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => string.GetHashCode(Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Value;
}

/// <summary>Changes each time a changefeed is stopped and resumed; messages of another epoch are dropped.</summary>
public readonly record struct ChangefeedEpoch(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
