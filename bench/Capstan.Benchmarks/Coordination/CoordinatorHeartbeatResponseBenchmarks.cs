namespace Capstan.Benchmarks.Coordination;

using BenchmarkDotNet.Attributes;
using Capstan.Core.Coordination;
using Capstan.Core.Protocol;

/// <summary>
/// TiCDC's BenchmarkCoordinatorHeartbeatResponse (spec §11.1): captures initialised by heartbeat
/// responses reporting every table Replicating (the owner fail-over rebuild path builds the N
/// sets), heartbeats off; every poll then receives the same responses again, so it ingests all N
/// statuses, schedules (nothing to do) and advances the checkpoint over N sets. The response
/// messages are built once in the setup.
/// </summary>
[MemoryDiagnoser]
public class CoordinatorHeartbeatResponseBenchmarks
{
    private CoordinatorRig _rig = null!;
    private TickInput _input = null!;

    /// <summary>Number of current tables (and Replicating sets).</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>1 … 131,072, doubling.</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(131_072);

    /// <summary>Builds the coordinator with N Replicating sets through the rebuild path.</summary>
    [GlobalSetup]
    public void Setup() => (_rig, _input) = HeartbeatResponseSetup.Create(Tables, 8);

    /// <summary>One poll with the 8 responses in the inbox.</summary>
    [Benchmark(Description = "CoordinatorHeartbeatResponse")]
    public TickResult Poll() => _rig.Tick(_input);
}

/// <summary>
/// <see cref="CoordinatorHeartbeatResponseBenchmarks"/> beyond TiCDC's sizes: 2^18 … 2^20 spans
/// with 8 and 64 captures (fewer iterations: each poll handles up to a million statuses).
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(3)]
public class CoordinatorHeartbeatResponseLargeBenchmarks
{
    private CoordinatorRig _rig = null!;
    private TickInput _input = null!;

    /// <summary>Number of current tables (and Replicating sets).</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>Number of alive captures.</summary>
    [Params(8, 64)]
    public int Captures { get; set; }

    /// <summary>2^18, 2^19, 2^20.</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Fixed(1 << 18, 1 << 19, 1 << 20);

    /// <summary>Builds the coordinator with N Replicating sets through the rebuild path.</summary>
    [GlobalSetup]
    public void Setup() => (_rig, _input) = HeartbeatResponseSetup.Create(Tables, Captures);

    /// <summary>One poll with one response per capture in the inbox.</summary>
    [Benchmark(Description = "CoordinatorHeartbeatResponse")]
    public TickResult Poll() => _rig.Tick(_input);
}

/// <summary>The shared setup of the heartbeat-response benchmarks.</summary>
internal static class HeartbeatResponseSetup
{
    /// <summary>A coordinator initialised from Replicating reports, and the steady-state tick input.</summary>
    public static (CoordinatorRig Rig, TickInput Input) Create(int tables, int captures)
    {
        var rig = new CoordinatorRig(tables, captures, CoordinatorRig.Quiet());
        Message[] responses = rig.ReplicatingResponses();
        rig.Initialise(responses);
        if (rig.Coordinator.ReplicationSets.Count != tables)
        {
            throw new InvalidOperationException($"expected {tables} sets, found {rig.Coordinator.ReplicationSets.Count}");
        }

        var input = rig.Input(responses);
        // The first steady-state poll settles lazily built structures; it must see every table covered.
        if (tables > 0 && !rig.Tick(input).Watermark.CanProceed)
        {
            throw new InvalidOperationException("the checkpoint cannot proceed: some table is not covered");
        }

        return (rig, input);
    }
}
