namespace Capstan.Runtime.Workload;

using Capstan.Core.Model;

/// <summary>A source of wall-clock milliseconds since the Unix epoch; injected so that tests use fake time.</summary>
public interface ITimeSource
{
    /// <summary>Milliseconds since the Unix epoch, as this source sees them now.</summary>
    long NowMilliseconds { get; }
}

/// <summary>The machine's clock.</summary>
public sealed class SystemTimeSource : ITimeSource
{
    /// <summary>The one instance.</summary>
    public static readonly SystemTimeSource Instance = new();

    private SystemTimeSource()
    {
    }

    /// <inheritdoc/>
    public long NowMilliseconds => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}

/// <summary>Fake time: stands still until advanced. Thread-safe.</summary>
public sealed class ManualTimeSource : ITimeSource
{
    private long _now;

    /// <summary>Starts at <paramref name="startMilliseconds"/> (default: 2026-01-01T00:00:00Z).</summary>
    public ManualTimeSource(long startMilliseconds = 1_767_225_600_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startMilliseconds);
        _now = startMilliseconds;
    }

    /// <inheritdoc/>
    public long NowMilliseconds => Interlocked.Read(ref _now);

    /// <summary>Moves time forward.</summary>
    public void Advance(long milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        Interlocked.Add(ref _now, milliseconds);
    }
}

/// <summary>
/// A TSO-like timestamp oracle for the simulated upstream: <c>physical ms &lt;&lt; 18 | logical</c>,
/// where the physical part comes from an injected <see cref="ITimeSource"/>. Every call to
/// <see cref="Next"/> returns a strictly larger timestamp (the logical part counts up within one
/// millisecond, and the physical part never goes back even if the source does). Thread-safe.
/// </summary>
public sealed class UpstreamClock
{
    private readonly ITimeSource _time;
    private readonly object _gate = new();
    private ulong _last;
    private long _lastPhysical;

    /// <summary>Creates a clock over a time source.</summary>
    public UpstreamClock(ITimeSource time)
    {
        _time = time;
    }

    /// <summary>Creates a clock over a function returning milliseconds since the Unix epoch.</summary>
    public UpstreamClock(Func<long> milliseconds) : this(new FunctionTimeSource(milliseconds))
    {
    }

    /// <summary>The time source.</summary>
    public ITimeSource Time => _time;

    /// <summary>The current physical time in milliseconds (never lower than an earlier answer).</summary>
    public long NowMilliseconds => Now().PhysicalMilliseconds;

    /// <summary>
    /// The timestamp "now" with logical part 0 (what a resolved ts or a barrier may reach now). Never
    /// lower than an earlier answer, nor than the physical part of any timestamp given out by
    /// <see cref="Next"/>.
    /// </summary>
    public Ts Now()
    {
        long physical = _time.NowMilliseconds;
        lock (_gate)
        {
            _lastPhysical = Math.Max(_lastPhysical, Math.Max(physical, new Ts(_last).PhysicalMilliseconds));
            return Ts.FromPhysical(_lastPhysical);
        }
    }

    /// <summary>Allocates a fresh timestamp, strictly greater than every earlier one.</summary>
    public Ts Next()
    {
        long physical = _time.NowMilliseconds;
        lock (_gate)
        {
            ulong candidate = Ts.FromPhysical(Math.Max(physical, _lastPhysical)).Value;
            _last = candidate > _last ? candidate : _last + 1;
            return new Ts(_last);
        }
    }

    private sealed class FunctionTimeSource(Func<long> milliseconds) : ITimeSource
    {
        public long NowMilliseconds => milliseconds();
    }
}
