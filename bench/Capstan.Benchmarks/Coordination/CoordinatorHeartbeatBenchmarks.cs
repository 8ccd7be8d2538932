namespace Capstan.Benchmarks.Coordination;

using BenchmarkDotNet.Attributes;
using Capstan.Core.Coordination;

/// <summary>
/// TiCDC's BenchmarkCoordinatorHeartbeat (spec §11.1) in its steady state: 8 initialised captures,
/// a heartbeat on every tick, N current tables, every table with a set. Each measured poll
/// receives nothing, sends 8 heartbeats that together list all N spans, and runs the scan of the
/// basic scheduler and the checkpoint walk over N sets.
/// </summary>
/// <remarks>
/// The N sets are reached quickly through the rebuild path (the captures' first responses report
/// every table Replicating, table i on capture i mod 8) rather than by 50-table burst adds over
/// N/50 polls. This is more work than TiCDC's figure, whose few iterations at large N only added
/// a few hundred tables; <see cref="CoordinatorHeartbeatFirstPollBenchmarks"/> measures that case.
/// </remarks>
[MemoryDiagnoser]
public class CoordinatorHeartbeatBenchmarks
{
    private CoordinatorRig _rig = null!;
    private TickInput _input = null!;

    /// <summary>Number of current tables.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>1 … 131,072, doubling.</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(131_072);

    /// <summary>Initialises the captures with Replicating reports (N sets), then polls once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _rig = new CoordinatorRig(Tables, 8, CoordinatorRig.Quiet(heartbeatTicks: 1));
        _rig.Initialise(_rig.ReplicatingResponses());
        _input = _rig.Input([]);
        _rig.Tick(_input);
        if (_rig.Coordinator.ReplicationSets.Count != Tables)
        {
            throw new InvalidOperationException($"expected {Tables} sets, found {_rig.Coordinator.ReplicationSets.Count}");
        }
    }

    /// <summary>One poll: 8 heartbeats listing every span.</summary>
    [Benchmark(Description = "CoordinatorHeartbeat")]
    public TickResult Poll() => _rig.Tick(_input);
}

/// <summary>
/// TiCDC's BenchmarkCoordinatorHeartbeat as its few iterations at large N ran it: a fresh,
/// initialised coordinator (8 silent captures, heartbeat every tick, N current tables, no set)
/// and its first poll, which burst-adds 50 tables and sends 8 heartbeats. One poll per iteration.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1, unrollFactor: 1)]
public class CoordinatorHeartbeatFirstPollBenchmarks
{
    private CoordinatorRig _rig = null!;
    private TickInput _input = null!;

    /// <summary>Number of current tables.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>1 … 131,072, doubling.</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(131_072);

    /// <summary>A fresh coordinator whose captures answered with empty responses.</summary>
    [IterationSetup]
    public void Setup()
    {
        _rig = new CoordinatorRig(Tables, 8, CoordinatorRig.Quiet(heartbeatTicks: 1));
        _rig.Initialise(_rig.EmptyResponses());
        _input = _rig.Input([]);
    }

    /// <summary>The first scheduling poll.</summary>
    [Benchmark(Description = "CoordinatorHeartbeat (first poll)")]
    public TickResult Poll() => _rig.Tick(_input);
}
