namespace Capstan.Core.Model;

/// <summary>
/// A TiDB/PD timestamp (TSO): the high 46 bits are physical milliseconds since the Unix epoch,
/// the low 18 bits a logical counter. Ordered as unsigned integers.
/// </summary>
public readonly record struct Ts(ulong Value) : IComparable<Ts>
{
    /// <summary>Number of logical bits below the physical part.</summary>
    public const int LogicalBits = 18;

    /// <summary>Zero; also "cannot proceed" in a watermark.</summary>
    public static readonly Ts Zero = new(0);

    /// <summary>The largest timestamp.</summary>
    public static readonly Ts Max = new(ulong.MaxValue);

    /// <summary>Physical part in milliseconds since the Unix epoch.</summary>
    public long PhysicalMilliseconds => (long)(Value >> LogicalBits);

    /// <summary>Logical part.</summary>
    public long Logical => (long)(Value & ((1UL << LogicalBits) - 1));

    /// <summary>Composes a timestamp from physical milliseconds and a logical counter.</summary>
    public static Ts FromPhysical(long milliseconds, long logical = 0) =>
        new(((ulong)milliseconds << LogicalBits) | ((ulong)logical & ((1UL << LogicalBits) - 1)));

    /// <summary>The larger of two timestamps.</summary>
    public static Ts MaxOf(Ts a, Ts b) => a.Value >= b.Value ? a : b;

    /// <summary>The smaller of two timestamps.</summary>
    public static Ts MinOf(Ts a, Ts b) => a.Value <= b.Value ? a : b;

    /// <inheritdoc/>
    public int CompareTo(Ts other) => Value.CompareTo(other.Value);

    /// <summary>Orders timestamps.</summary>
    public static bool operator <(Ts a, Ts b) => a.Value < b.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >(Ts a, Ts b) => a.Value > b.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator <=(Ts a, Ts b) => a.Value <= b.Value;

    /// <summary>Orders timestamps.</summary>
    public static bool operator >=(Ts a, Ts b) => a.Value >= b.Value;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Wraps a raw value.</summary>
    public static implicit operator Ts(ulong value) => new(value);
}
