namespace Capstan.Runtime.Workload;

using Capstan.Core.Model;

/// <summary>
/// The simulated upstream's write load: every table receives change events at its own steady rate
/// (events per second, drawn from the seed). The events of a table up to a timestamp are a pure
/// function of the timestamp's physical part, so any partition of a ts range into pieces sums to
/// the same count: that is what lets the gap check count events exactly.
/// </summary>
public sealed class TableWorkload
{
    /// <summary>Creates a workload.</summary>
    /// <param name="seed">Seeds the per-table rates.</param>
    /// <param name="minEventsPerSecond">Lowest per-table rate (≥ 0).</param>
    /// <param name="maxEventsPerSecond">Highest per-table rate (≥ min, ≤ 1,000,000).</param>
    public TableWorkload(ulong seed, int minEventsPerSecond = 1, int maxEventsPerSecond = 200)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minEventsPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventsPerSecond, minEventsPerSecond);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxEventsPerSecond, 1_000_000);
        Seed = seed;
        MinEventsPerSecond = minEventsPerSecond;
        MaxEventsPerSecond = maxEventsPerSecond;
    }

    /// <summary>The seed of the rates.</summary>
    public ulong Seed { get; }

    /// <summary>Lowest per-table rate.</summary>
    public int MinEventsPerSecond { get; }

    /// <summary>Highest per-table rate.</summary>
    public int MaxEventsPerSecond { get; }

    /// <summary>The table's steady write rate in events per second.</summary>
    public long EventsPerSecond(TableId table)
    {
        ulong spread = (ulong)(MaxEventsPerSecond - MinEventsPerSecond) + 1;
        return MinEventsPerSecond + (long)(Mix(Seed ^ (ulong)table.Value) % spread);
    }

    /// <summary>Events the table received with commit ts ≤ <paramref name="ts"/> (counted from the Unix epoch).</summary>
    public long EventsUpTo(TableId table, Ts ts) => EventsUpTo(EventsPerSecond(table), ts);

    /// <summary>Events with commit ts in (<paramref name="from"/>, <paramref name="to"/>]; 0 when the range is empty.</summary>
    public long EventsBetween(TableId table, Ts from, Ts to) =>
        to <= from ? 0 : EventsBetween(EventsPerSecond(table), from, to);

    /// <summary>
    /// Events with commit ts ≤ <paramref name="ts"/> of a table writing <paramref name="eventsPerSecond"/>
    /// (its <see cref="EventsPerSecond"/>, which a caller may keep to avoid recomputing it).
    /// </summary>
    public static long EventsUpTo(long eventsPerSecond, Ts ts) =>
        ts.PhysicalMilliseconds / 1000 * eventsPerSecond + ts.PhysicalMilliseconds % 1000 * eventsPerSecond / 1000;

    /// <summary>Events with commit ts in (<paramref name="from"/>, <paramref name="to"/>] at a known rate; 0 when the range is empty.</summary>
    public static long EventsBetween(long eventsPerSecond, Ts from, Ts to) =>
        to <= from ? 0 : EventsUpTo(eventsPerSecond, to) - EventsUpTo(eventsPerSecond, from);

    /// <summary>A stable per-table pseudo-random value (e.g. for region counts or prepare jitter).</summary>
    public ulong TableHash(TableId table, ulong salt) => Mix(Seed ^ (ulong)table.Value ^ Mix(salt));

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
