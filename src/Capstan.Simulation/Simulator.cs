namespace Capstan.Simulation;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Workload;
using Capstan.Simulation.Checks;
using Capstan.Simulation.Cluster;
using Capstan.Simulation.Trace;

/// <summary>
/// A deterministic simulation of a whole Capstan cluster running one changefeed: the real
/// <see cref="Coordinator"/> and <see cref="Core.Agent.Agent"/> of every capture, stepped on one
/// thread in virtual time (ticks of <see cref="TickMilliseconds"/>), with one seeded random
/// generator deciding every fault, delay, command and scheduling tie. The same seed and options
/// replay the same run exactly (<see cref="SimulationResult.TraceHash"/>).
/// </summary>
/// <remarks>
/// A run has two phases. The fault phase injects crashes and restarts, pauses, partitions, cuts
/// from the metadata store, stuck executors, owner resignations, lost/duplicated/reordered
/// messages, table creation and drops, and operator commands; safety is checked on every tick
/// (<see cref="SafetyChecks"/>). The liveness phase stops the faults and requires the cluster to
/// converge within a computed bound (<see cref="LivenessBound"/>). Either failure throws a
/// <see cref="SimulationViolation"/> carrying the seed, the tick and a trace excerpt.
/// </remarks>
public sealed partial class Simulator
{
    /// <summary>Virtual milliseconds per tick (the owner's and processors' tick interval).</summary>
    public const long TickMilliseconds = 50;

    /// <summary>The simulated changefeed.</summary>
    public static readonly ChangefeedId Changefeed = "sim";

    /// <summary>Its epoch.</summary>
    public static readonly ChangefeedEpoch FeedEpoch = new(1);

    /// <summary>Trace events kept by default: enough for a readable excerpt around any failure.</summary>
    public const int DefaultTraceCapacity = 20_000;
    private const long StartMilliseconds = 1_767_225_600_000;
    private const long BarrierLagMilliseconds = 100;
    private const long ChangefeedLagMilliseconds = 1000;

    private readonly SimCapture[] _captures;
    private readonly Dictionary<CaptureId, int> _indexOf = [];
    private readonly ManualTimeSource _time = new(StartMilliseconds);
    private readonly List<TableId> _tables = [];
    private readonly long[] _etcdCutUntil;
    private long _nextTableId = 1;
    private long _tick;

    /// <summary>Creates a run; nothing happens until <see cref="Run"/>.</summary>
    /// <param name="seed">The seed of the one random generator.</param>
    /// <param name="options">The configuration (see <see cref="SimulationOptions.Draw"/>).</param>
    /// <param name="replayCommand">The command line that replays this run, printed with violations.</param>
    /// <param name="traceCapacity">Trace events kept for the excerpt printed with a violation (the hash covers all of them anyway).</param>
    public Simulator(ulong seed, SimulationOptions options, string replayCommand, int traceCapacity = DefaultTraceCapacity)
        : this(new SeededRandom(seed), options, replayCommand, traceCapacity)
    {
    }

    /// <summary>Creates a run that continues <paramref name="random"/> (e.g. after drawing the options from it).</summary>
    public Simulator(SeededRandom random, SimulationOptions options, string replayCommand, int traceCapacity = DefaultTraceCapacity)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        Random = random;
        Seed = random.Seed;
        ReplayCommand = replayCommand;
        Clock = new UpstreamClock(_time);
        StartTs = Ts.FromPhysical(StartMilliseconds - ChangefeedLagMilliseconds);
        Trace = new TraceLog(traceCapacity, StartMilliseconds);
        Workload = new TableWorkload(random.NextUInt64(), 1, 200);
        Coverage = new CoverageTracker();
        Ledger = new ReplicationLedger(Coverage.OnApplied);
        Checks = new SafetyChecks(this);
        Etcd = new SimEtcd(this, options.Captures, StartTs);
        Network = new SimNetwork(this, options.Captures);
        _etcdCutUntil = new long[options.Captures];
        _captures = new SimCapture[options.Captures];
        for (int i = 0; i < _captures.Length; i++)
        {
            _captures[i] = new SimCapture(this, i);
            _indexOf[_captures[i].Id] = i;
        }

        for (int i = 0; i < options.InitialTables; i++)
        {
            AddTable(StartTs);
        }

        TablesSnapshot = [.. _tables];
    }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>The configuration.</summary>
    public SimulationOptions Options { get; }

    /// <summary>Counters of what happened.</summary>
    public SimulationStats Stats { get; } = new();

    /// <summary>The run's trace.</summary>
    public TraceLog Trace { get; }

    /// <summary>The current tick.</summary>
    public long Tick => _tick;

    /// <summary>Trace lines printed with a violation.</summary>
    public int TraceLines { get; init; } = Capstan.Simulation.Checks.SafetyChecks.TraceLines;

    internal string ReplayCommand { get; }

    internal SeededRandom Random { get; }

    internal UpstreamClock Clock { get; }

    internal Ts StartTs { get; }

    internal TableWorkload Workload { get; }

    internal ReplicationLedger Ledger { get; }

    internal CoverageTracker Coverage { get; }

    internal SafetyChecks Checks { get; }

    internal SimEtcd Etcd { get; }

    internal SimNetwork Network { get; }

    internal IReadOnlyList<SimCapture> Captures => _captures;

    /// <summary>The changefeed's current tables (a new array after each change; shared by every tick input).</summary>
    internal TableId[] TablesSnapshot { get; private set; }

    /// <summary>Runs the fault phase, then the liveness phase; throws <see cref="SimulationViolation"/> on any failure.</summary>
    public SimulationResult Run()
    {
        Trace.Note(0, TraceKind.Phase, $"seed {Seed}: {Options.Describe()}");
        for (int i = 0; i < Options.FaultTicks; i++)
        {
            Step(faults: true);
        }

        long faultsEnd = _tick;
        var bound = EndFaults();
        long converged = RunLiveness(bound);
        var final = FinalCheck();
        return new SimulationResult
        {
            Seed = Seed,
            Options = Options,
            Ticks = _tick,
            FaultTicks = faultsEnd,
            ConvergenceTicks = converged,
            LivenessBoundTicks = bound.Total,
            TraceHash = Trace.Hash,
            FinalCheckpoint = Etcd.CheckpointTs,
            Gaps = final.Gaps,
            Replays = final.Replays,
            EventsApplied = final.EventsApplied,
            Stats = Stats.Snapshot(this),
        };
    }

    internal bool IsCutFromEtcd(int capture) => _tick < _etcdCutUntil[capture];

    internal int IndexOf(CaptureId capture) => _indexOf.TryGetValue(capture, out int index) ? index : -1;

    /// <summary>A latency between a capture and the store, in ticks.</summary>
    internal int EtcdDelay() => Options.EtcdMaxDelayTicks == 0 ? 0 : Random.Next(Options.EtcdMaxDelayTicks + 1);

    internal Coordinator NewCoordinator(CaptureId self, OwnerRevision revision) => new(new CoordinatorOptions
    {
        Self = self,
        Changefeed = Changefeed,
        OwnerRevision = revision,
        ChangefeedEpoch = FeedEpoch,
        Config = Options.Scheduler,
        Random = Random,
    });

    /// <summary>
    /// The owner's barrier: what its DDL puller has resolved, i.e. upstream time less a small lag.
    /// Sinks do not pass it, and with no tables it is the checkpoint.
    /// </summary>
    internal Barrier GlobalBarrier() => new() { GlobalBarrierTs = Ts.FromPhysical(Clock.NowMilliseconds - BarrierLagMilliseconds) };

    internal SimulatedExecutorOptions DrawExecutorOptions()
    {
        bool slow = Random.Chance(Options.SlowExecutorRate);
        return new SimulatedExecutorOptions
        {
            PrepareMilliseconds = slow ? Options.SlowPrepareMilliseconds : Options.PrepareMilliseconds,
            StopMilliseconds = slow ? Options.SlowStopMilliseconds : Options.StopMilliseconds,
            ResolvedLagMilliseconds = Random.Next(200),
        };
    }

    /// <summary>The coordinator of the current owner term, if its capture has started it.</summary>
    internal Coordinator? CurrentCoordinator(out SimCapture? owner)
    {
        var view = Etcd.Current;
        int index = IndexOf(view.Owner);
        owner = index < 0 ? null : _captures[index];
        return owner is { IsUp: true, Coordinator: { } coordinator } && owner.CoordinatorRevision == view.OwnerRevision
            ? coordinator
            : null;
    }

    private void Step(bool faults)
    {
        _tick++;
        _time.Advance(TickMilliseconds);
        Etcd.Step(_tick);
        if (faults)
        {
            InjectFaults();
        }

        Network.Deliver(_tick, _captures);
        foreach (int index in ShuffledCaptures())
        {
            _captures[index].Step(_tick);
        }

        Operate(faults);
        Checks.AfterTick(_tick);
        Trace.Mix((long)Etcd.CheckpointTs.Value);
    }

    private int[] ShuffledCaptures()
    {
        var order = new int[_captures.Length];
        for (int i = 0; i < order.Length; i++)
        {
            int j = Random.Next(i + 1);
            order[i] = order[j];
            order[j] = i;
        }

        return order;
    }

    private void AddTable(Ts startTs)
    {
        var table = new TableId(_nextTableId++);
        _tables.Add(table);
        Coverage.Register(table, startTs);
    }

    private void CreateTable()
    {
        var start = Clock.Now();
        AddTable(start);
        TablesSnapshot = [.. _tables];
        Stats.TablesCreated++;
        Trace.Note(_tick, TraceKind.Table, $"CREATE TABLE t{_tables[^1].Value} (data from {Trace.FormatTs(start)})", _tables[^1].Value);
    }

    private void DropTable()
    {
        if (_tables.Count == 0)
        {
            return;
        }

        int index = Random.Next(_tables.Count);
        var table = _tables[index];
        _tables.RemoveAt(index);
        TablesSnapshot = [.. _tables];
        Stats.TablesDropped++;
        Trace.Note(_tick, TraceKind.Table, $"DROP TABLE t{table.Value}", table.Value);
    }

    /// <summary>The ledger-based gap check of <see cref="GapChecker"/> over every current table, each from its own start.</summary>
    private (int Gaps, int Replays, long EventsApplied) FinalCheck()
    {
        int gaps = 0;
        int replays = 0;
        long applied = 0;
        foreach (var table in _tables)
        {
            var report = GapChecker.CheckTables(Ledger, Changefeed, [table], Coverage.StartOf(table), Etcd.CheckpointTs, Workload);
            if (report.Gaps.Count > 0)
            {
                Checks.Fail(ViolationKind.Gap, $"final gap check of t{table.Value}: {report.Describe()}", table.Value);
            }

            gaps += report.Gaps.Count;
            replays += report.Overlaps.Count;
            applied += report.EventsApplied;
        }

        return (gaps, replays, applied);
    }
}
