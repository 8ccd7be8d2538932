namespace Capstan.Simulation;

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Capstan.Core.Model;

/// <summary>How one seed is turned into a run: the profile its configuration is drawn from, and optional overrides.</summary>
public sealed record RunSpec
{
    /// <summary>The profile the configuration is drawn from.</summary>
    public SimulationProfile Profile { get; init; } = SimulationProfile.Swarm;

    /// <summary>Captures, overriding the drawn value.</summary>
    public int? Captures { get; init; }

    /// <summary>Initial tables, overriding the drawn value.</summary>
    public int? Tables { get; init; }

    /// <summary>Fault-phase ticks, overriding the drawn value.</summary>
    public int? FaultTicks { get; init; }

    /// <summary>Let messages overtake each other within a link (off: links are FIFO like the real transport).</summary>
    public bool UnorderedLinks { get; init; }

    /// <summary>Trace events each run keeps for its failure excerpt (a swarm keeps few; a replay many).</summary>
    public int TraceCapacity { get; init; } = Simulator.DefaultTraceCapacity;

    /// <summary>Trace lines printed with a violation.</summary>
    public int TraceLines { get; init; } = Checks.SafetyChecks.TraceLines;

    /// <summary>The configuration drawn from a seed's generator (which the run then continues), with the overrides applied.</summary>
    public SimulationOptions Options(SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var drawn = SimulationOptions.Draw(Profile, random);
        return drawn with
        {
            Captures = Captures ?? drawn.Captures,
            InitialTables = Tables ?? drawn.InitialTables,
            FaultTicks = FaultTicks ?? drawn.FaultTicks,
            UnorderedLinks = UnorderedLinks,
        };
    }

    /// <summary>The command line that replays <paramref name="seed"/> with this spec.</summary>
    public string ReplayCommand(ulong seed)
    {
        var text = new StringBuilder("./capstan simulate --seed ").Append(seed.ToString(CultureInfo.InvariantCulture));
        if (Profile != SimulationProfile.Swarm)
        {
            text.Append(" --profile ").Append(Profile.ToString().ToLowerInvariant());
        }

        Append(text, "--captures", Captures);
        Append(text, "--tables", Tables);
        Append(text, "--fault-ticks", FaultTicks);
        if (UnorderedLinks)
        {
            text.Append(" --unordered-links");
        }

        return text.ToString();
    }

    /// <summary>Runs one seed: a result, or the violation it found.</summary>
    public SeedOutcome Run(ulong seed)
    {
        var random = new SeededRandom(seed);
        var options = Options(random);
        var simulator = new Simulator(random, options, ReplayCommand(seed), TraceCapacity) { TraceLines = TraceLines };
        try
        {
            return new SeedOutcome(seed, simulator.Run(), null, simulator.Tick);
        }
        catch (SimulationViolation violation)
        {
            return new SeedOutcome(seed, null, violation, simulator.Tick);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // A bug of the simulator itself still names its seed.
            var violation = new SimulationViolation(
                ViolationKind.NodeException, seed, simulator.Tick, $"the simulation itself threw: {error}", -1,
                simulator.Trace.Format(TraceLines), ReplayCommand(seed));
            return new SeedOutcome(seed, null, violation, simulator.Tick);
        }
    }

    private static void Append(StringBuilder text, string option, int? value)
    {
        if (value is int set)
        {
            text.Append(' ').Append(option).Append(' ').Append(set.ToString(CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>What one seed gave.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="Result">The result when no property broke.</param>
/// <param name="Violation">The violation otherwise.</param>
/// <param name="Ticks">Ticks simulated.</param>
public sealed record SeedOutcome(ulong Seed, SimulationResult? Result, SimulationViolation? Violation, long Ticks)
{
    /// <summary>True when no property broke.</summary>
    public bool Passed => Violation is null;
}

/// <summary>Totals of a swarm.</summary>
public sealed class SwarmTotals
{
    private readonly object _gate = new();
    private readonly List<SeedOutcome> _failures = [];

    /// <summary>Seeds run.</summary>
    public long Seeds { get; private set; }

    /// <summary>Ticks simulated over all seeds.</summary>
    public long Ticks { get; private set; }

    /// <summary>Wall time so far.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The failing seeds, in the order they failed.</summary>
    public IReadOnlyList<SeedOutcome> Failures
    {
        get
        {
            lock (_gate)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>What happened in the passing runs, summed.</summary>
    public SimulationStats Stats { get; } = new();

    /// <summary>Seeds per wall-clock second.</summary>
    public double SeedsPerSecond => Seeds / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Simulated ticks per wall-clock second.</summary>
    public double TicksPerSecond => Ticks / Math.Max(Elapsed.TotalSeconds, 1e-9);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    internal void Add(SeedOutcome outcome)
    {
        lock (_gate)
        {
            Seeds++;
            Ticks += outcome.Ticks;
            if (outcome.Result is { } result)
            {
                Stats.Add(result.Stats);
            }
            else
            {
                _failures.Add(outcome);
            }
        }
    }

    /// <summary>One progress line.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Seeds} seeds, {Ticks} ticks, {Failures.Count} failed in {Elapsed.TotalSeconds:0.0} s: {SeedsPerSecond:0.00} seeds/s, {TicksPerSecond:0} ticks/s");
}

/// <summary>
/// Runs many seeds, each with its own random configuration, on several threads (each run is
/// single-threaded and deterministic; the threads only share the totals).
/// </summary>
public static class Swarm
{
    /// <summary>
    /// Runs seeds <paramref name="firstSeed"/>, +1, … until <paramref name="maxSeeds"/> have run or
    /// <paramref name="duration"/> has passed (whichever comes first; null means no limit), or
    /// <paramref name="maxFailures"/> seeds failed. <paramref name="onOutcome"/> is called for every
    /// seed, with the totals so far, from any thread.
    /// </summary>
    public static SwarmTotals Run(
        RunSpec spec, ulong firstSeed, long? maxSeeds, TimeSpan? duration, int parallelism, int maxFailures,
        Action<SeedOutcome, SwarmTotals>? onOutcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var totals = new SwarmTotals();
        long next = -1;
        var deadline = duration is { } limit ? Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var workers = new Thread[parallelism];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(() =>
            {
                while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline && totals.Failures.Count < maxFailures)
                {
                    long index = Interlocked.Increment(ref next);
                    if (maxSeeds is long max && index >= max)
                    {
                        return;
                    }

                    var outcome = spec.Run(unchecked(firstSeed + (ulong)index));
                    totals.Add(outcome);
                    onOutcome?.Invoke(outcome, totals);
                }
            })
            { IsBackground = true, Name = $"swarm-{i}" };
            workers[i].Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        return totals;
    }
}
