namespace Capstan.Benchmarks.Coordination;

using BenchmarkDotNet.Attributes;
using Capstan.Core.Coordination;

/// <summary>
/// TiCDC's BenchmarkCoordinatorInit (spec §11.1): 8 alive captures that never answer, heartbeats
/// off, N current tables. Every poll stays on the not-initialised path: capture bookkeeping and a
/// checkpoint computation that stops at the first table (no sets yet).
/// </summary>
[MemoryDiagnoser]
public class CoordinatorInitBenchmarks
{
    private CoordinatorRig _rig = null!;
    private TickInput _input = null!;

    /// <summary>Number of current tables.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>1 … 131,072, doubling.</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(131_072);

    /// <summary>Creates the coordinator and runs its first tick (captures registered, initial heartbeats sent).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _rig = new CoordinatorRig(Tables, 8, CoordinatorRig.Quiet());
        _input = _rig.Input([]);
        _rig.Tick(_input);
    }

    /// <summary>One poll while no capture has answered.</summary>
    [Benchmark(Description = "CoordinatorInit")]
    public TickResult Poll() => _rig.Tick(_input);
}
