namespace Capstan.Runtime.Hosting;

using System.Globalization;
using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Transport;
using Capstan.Runtime.Workload;

/// <summary>Settings of an <see cref="EmbeddedCluster"/>.</summary>
public sealed record EmbeddedClusterOptions
{
    /// <summary>Seeds everything random: processor epochs, table write rates, balance tie-breaking.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Manual step mode: how far fake time moves per <see cref="EmbeddedCluster.Step"/> (1..60,000 ms).</summary>
    public long TickMilliseconds { get; init; } = 50;

    /// <summary>Manual step mode: where fake time starts (ms since the Unix epoch).</summary>
    public long StartMilliseconds { get; init; } = 1_767_225_600_000;

    /// <summary>How long a killed capture stays in membership before its session expires (0..600,000 ms; 0 = at once).</summary>
    public long SessionTtlMilliseconds { get; init; }

    /// <summary>Host settings (the scheduler config is inside). Its RandomSeed is replaced by <see cref="Seed"/>.</summary>
    public HostOptions Host { get; init; } = new();

    /// <summary>Timings of the simulated processors.</summary>
    public SimulatedExecutorOptions Executor { get; init; } = new();

    /// <summary>Transport settings.</summary>
    public InProcessTransportOptions Transport { get; init; } = new();

    /// <summary>Lowest per-table write rate (events per second).</summary>
    public int MinEventsPerSecond { get; init; } = 1;

    /// <summary>Highest per-table write rate (events per second).</summary>
    public int MaxEventsPerSecond { get; init; } = 200;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public EmbeddedClusterOptions Validate()
    {
        if (TickMilliseconds is < 1 or > 60_000)
        {
            throw new ArgumentOutOfRangeException(nameof(TickMilliseconds), TickMilliseconds, "TickMilliseconds must be in 1..60000");
        }

        if (SessionTtlMilliseconds is < 0 or > 600_000)
        {
            throw new ArgumentOutOfRangeException(nameof(SessionTtlMilliseconds), SessionTtlMilliseconds, "SessionTtlMilliseconds must be in 0..600000");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(StartMilliseconds);
        Host.Validate();
        Executor.Validate();
        Transport.Validate();
        return this;
    }
}

/// <summary>One capture in a <see cref="ClusterSnapshot"/>.</summary>
/// <param name="Id">The capture.</param>
/// <param name="Epoch">Its processor epoch.</param>
/// <param name="State">Its lifecycle state.</param>
/// <param name="Liveness">Its liveness.</param>
/// <param name="IsOwner">True when it holds the owner term.</param>
/// <param name="SpansByState">Its executor's spans of the changefeed per <see cref="TableState"/>.</param>
/// <param name="Primaries">Replicating sets whose primary it is, as the owner sees them.</param>
public sealed record CaptureView(
    CaptureId Id, ProcessorEpoch Epoch, CaptureNodeState State, Liveness Liveness, bool IsOwner, IReadOnlyList<int> SpansByState, int Primaries)
{
    /// <summary>Spans in one state on this capture.</summary>
    public int Count(TableState state) => (int)state < SpansByState.Count ? SpansByState[(int)state] : 0;
}

/// <summary>The cluster as seen at one moment, for one changefeed.</summary>
public sealed record ClusterSnapshot
{
    /// <summary>Manual steps taken (0 in real-time mode).</summary>
    public long Step { get; init; }

    /// <summary>Upstream time (ms).</summary>
    public long NowMilliseconds { get; init; }

    /// <summary>The changefeed.</summary>
    public ChangefeedId Changefeed { get; init; }

    /// <summary>Tables the changefeed replicates.</summary>
    public int Tables { get; init; }

    /// <summary>The owner capture, or None during a fail-over.</summary>
    public CaptureId Owner { get; init; }

    /// <summary>The owner host's view, or null.</summary>
    public OwnerSnapshot? OwnerView { get; init; }

    /// <summary>The captures that have not terminated, in id order.</summary>
    public IReadOnlyList<CaptureView> Captures { get; init; } = [];

    /// <summary>The persisted checkpoint.</summary>
    public Ts CheckpointTs { get; init; }

    /// <summary>The persisted resolved ts.</summary>
    public Ts ResolvedTs { get; init; }

    /// <summary>Upstream time minus the checkpoint's physical time.</summary>
    public long CheckpointLagMilliseconds => CheckpointTs.Value == 0 ? 0 : NowMilliseconds - CheckpointTs.PhysicalMilliseconds;

    /// <summary>Replication sets per state as the owner sees them (all zero without an owner).</summary>
    public int SetsIn(ReplicationSetState state) =>
        OwnerView is { } owner && (int)state < owner.SetsByState.Count ? owner.SetsByState[(int)state] : 0;

    /// <summary>
    /// True when the owner has one Replicating set per table, nothing in flight, and every primary is
    /// a capture that is still running.
    /// </summary>
    public bool AllReplicating => OwnerView is { IsInitialized: true } owner
        && owner.SetCount == Tables && SetsIn(ReplicationSetState.Replicating) == Tables && owner.RunningTasks == 0
        && LivePrimaries == Tables;

    /// <summary>Replicating sets whose primary is a capture that has not terminated.</summary>
    public int LivePrimaries
    {
        get
        {
            int total = 0;
            foreach (var capture in Captures)
            {
                total += capture.Primaries;
            }

            return total;
        }
    }

    /// <summary>Largest minus smallest primary count over running (not stopping) captures.</summary>
    public int BalanceSpread
    {
        get
        {
            int min = int.MaxValue;
            int max = 0;
            foreach (var capture in Captures)
            {
                if (capture.State == CaptureNodeState.Running && capture.Liveness == Liveness.Alive)
                {
                    min = Math.Min(min, capture.Primaries);
                    max = Math.Max(max, capture.Primaries);
                }
            }

            return min == int.MaxValue ? 0 : max - min;
        }
    }

    /// <summary>
    /// The scheduler's own notion of balance (TiCDC's balanceMoves): no running capture holds more
    /// than ceil(replicating sets / running captures) primaries.
    /// </summary>
    public bool IsBalanced
    {
        get
        {
            int captures = 0;
            int total = 0;
            int max = 0;
            foreach (var capture in Captures)
            {
                if (capture.State == CaptureNodeState.Running && capture.Liveness == Liveness.Alive)
                {
                    captures++;
                    total += capture.Primaries;
                    max = Math.Max(max, capture.Primaries);
                }
            }

            return captures == 0 || max <= (total + captures - 1) / captures;
        }
    }

    /// <summary>A compact multi-line description.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"step {Step}, owner {(Owner.IsNone ? "-" : Owner)}, checkpoint {CheckpointTs} (lag {CheckpointLagMilliseconds} ms), sets ");
        foreach (var state in (ReplicationSetState[])[ReplicationSetState.Absent, ReplicationSetState.Prepare,
                     ReplicationSetState.Commit, ReplicationSetState.Replicating, ReplicationSetState.Removing])
        {
            text.Append(CultureInfo.InvariantCulture, $"{state}={SetsIn(state)} ");
        }

        text.Append(CultureInfo.InvariantCulture, $"running tasks {OwnerView?.RunningTasks ?? 0}");
        foreach (var capture in Captures)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\n  {capture.Id}{(capture.IsOwner ? " (owner)" : "")}: {capture.State}/{capture.Liveness}, primaries {capture.Primaries}, replicating {capture.Count(TableState.Replicating)}, total {SumOf(capture.SpansByState)}");
        }

        return text.ToString();
    }

    private static int SumOf(IReadOnlyList<int> counts)
    {
        int total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        return total;
    }
}

/// <summary>
/// N captures in one process: in-process transport, membership, owner election and metadata, and
/// the simulated workload. Two modes: manual step mode (<see cref="CreateManual"/>) where
/// <see cref="Step"/> advances fake time by one tick and steps every capture in id order (housekeeping,
/// then every owner host, then every agent host) on the caller's thread, with no sleeps and no
/// threads; and real-time mode (<see cref="CreateRealTime"/>) where every capture and host runs its
/// own periodic loop on the system clock.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<CaptureNode> _incarnations = [];
    private readonly List<(CaptureId Capture, long DueMilliseconds)> _pendingExpiries = [];
    private readonly SeededRandom _random;
    private readonly CancellationTokenSource _run = new();
    private readonly Task? _housekeeping;
    private int _nextCaptureNumber = 1;
    private long _steps;

    private EmbeddedCluster(EmbeddedClusterOptions options, bool realTime)
    {
        Options = options.Validate();
        IsRealTime = realTime;
        _random = new SeededRandom(options.Seed);
        ManualTime = realTime ? null : new ManualTimeSource(options.StartMilliseconds);
        Clock = new UpstreamClock(realTime ? SystemTimeSource.Instance : ManualTime!);
        Transport = new InProcessTransport(options.Transport);
        Membership = new InProcessMembership();
        Election = new InProcessOwnerElection();
        Metadata = new InMemoryMetadataStore(Election);
        Ledger = new ReplicationLedger();
        Workload = new TableWorkload(options.Seed, options.MinEventsPerSecond, options.MaxEventsPerSecond);
        Services = new CaptureServices
        {
            Transport = Transport,
            Membership = Membership,
            Election = Election,
            Metadata = Metadata,
            Clock = Clock,
            ExecutorFactory = (capture, epoch, changefeed) =>
                new SimulatedTableExecutor(new SinkWriter(capture, epoch), changefeed.Id, Clock, Ledger, Workload, options.Executor),
            Options = options.Host with { RandomSeed = options.Seed },
        };
        if (realTime)
        {
            _housekeeping = Task.Run(() => RunHousekeepingAsync(_run.Token));
        }
    }

    /// <summary>A cluster driven by <see cref="Step"/> on fake time (deterministic; for tests and <c>--fast</c>).</summary>
    public static EmbeddedCluster CreateManual(EmbeddedClusterOptions? options = null) => new(options ?? new(), realTime: false);

    /// <summary>A cluster whose loops run on the system clock.</summary>
    public static EmbeddedCluster CreateRealTime(EmbeddedClusterOptions? options = null) => new(options ?? new(), realTime: true);

    /// <summary>The settings.</summary>
    public EmbeddedClusterOptions Options { get; }

    /// <summary>True in real-time mode.</summary>
    public bool IsRealTime { get; }

    /// <summary>Fake time (manual mode only).</summary>
    public ManualTimeSource? ManualTime { get; }

    /// <summary>Upstream time.</summary>
    public UpstreamClock Clock { get; }

    /// <summary>The message layer.</summary>
    public InProcessTransport Transport { get; }

    /// <summary>Membership.</summary>
    public InProcessMembership Membership { get; }

    /// <summary>Owner election.</summary>
    public InProcessOwnerElection Election { get; }

    /// <summary>Changefeeds and checkpoints.</summary>
    public InMemoryMetadataStore Metadata { get; }

    /// <summary>What every executor applied downstream.</summary>
    public ReplicationLedger Ledger { get; }

    /// <summary>Table write rates.</summary>
    public TableWorkload Workload { get; }

    /// <summary>The edges every capture uses.</summary>
    public CaptureServices Services { get; }

    /// <summary>Tables the owner snapshots describe in detail.</summary>
    public TableWatchList WatchList { get; } = new();

    /// <summary>Manual steps taken.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Captures that have not terminated, in id order.</summary>
    public IReadOnlyList<CaptureNode> Captures
    {
        get
        {
            lock (_gate)
            {
                var alive = new List<CaptureNode>();
                foreach (var node in _incarnations)
                {
                    if (!node.IsTerminated)
                    {
                        alive.Add(node);
                    }
                }

                alive.Sort(static (a, b) => a.Id.CompareTo(b.Id));
                return alive;
            }
        }
    }

    /// <summary>Every capture incarnation ever started, terminated ones included, in start order.</summary>
    public IReadOnlyList<CaptureNode> Incarnations
    {
        get
        {
            lock (_gate)
            {
                return [.. _incarnations];
            }
        }
    }

    /// <summary>The current owner, or None during a fail-over.</summary>
    public CaptureId OwnerId => Election.GetOwnerAsync(CancellationToken.None).Result?.Capture ?? CaptureId.None;

    /// <summary>The running capture with this id, or null.</summary>
    public CaptureNode? Find(CaptureId id)
    {
        foreach (var node in Captures)
        {
            if (node.Id == id)
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>Starts a capture with a fresh processor epoch (id "capture-N" when not given).</summary>
    public async Task<CaptureNode> AddCaptureAsync(string? id = null)
    {
        CaptureId captureId;
        ProcessorEpoch epoch;
        lock (_gate)
        {
            captureId = id ?? $"capture-{_nextCaptureNumber++}";
            foreach (var node in _incarnations)
            {
                if (node.Id == captureId && !node.IsTerminated)
                {
                    throw new InvalidOperationException($"capture {captureId} is already running");
                }
            }

            epoch = new ProcessorEpoch(_random.NextUInt64().ToString("x16", CultureInfo.InvariantCulture));
            _pendingExpiries.RemoveAll(expiry => expiry.Capture == captureId);
        }

        var info = new CaptureInfo(captureId, $"embedded://{captureId}", Services.Options.Version);
        var created = new CaptureNode(info, epoch, Services, WatchList);
        await created.StartAsync(CancellationToken.None).ConfigureAwait(false);
        lock (_gate)
        {
            _incarnations.Add(created);
        }

        if (IsRealTime)
        {
            created.Start();
        }

        return created;
    }

    /// <summary>Restarts a capture under the same id as a new incarnation (new processor epoch); kills it first if it runs.</summary>
    public async Task<CaptureNode> RestartCaptureAsync(CaptureId id)
    {
        if (Find(id) is not null)
        {
            await KillCaptureAsync(id).ConfigureAwait(false);
        }

        return await AddCaptureAsync(id.Value).ConfigureAwait(false);
    }

    /// <summary>
    /// Crashes a capture: its loops and executors stop without handing anything over; its session
    /// expires after <see cref="EmbeddedClusterOptions.SessionTtlMilliseconds"/>.
    /// </summary>
    public async Task KillCaptureAsync(CaptureId id)
    {
        var node = Find(id) ?? throw new InvalidOperationException($"capture {id} is not running");
        await node.KillAsync().ConfigureAwait(false);
        if (Options.SessionTtlMilliseconds == 0)
        {
            Membership.Expire(id);
            return;
        }

        lock (_gate)
        {
            _pendingExpiries.Add((id, Clock.NowMilliseconds + Options.SessionTtlMilliseconds));
        }
    }

    /// <summary>Kills the owner's capture; returns its id (None when there is no running owner).</summary>
    public async Task<CaptureId> KillOwnerAsync()
    {
        var owner = OwnerId;
        if (owner.IsNone || Find(owner) is null)
        {
            return CaptureId.None;
        }

        {
            await KillCaptureAsync(owner).ConfigureAwait(false);
        }

        return owner;
    }

    /// <summary>Asks a capture to leave gracefully (it is drained first); progress happens in later steps.</summary>
    public void StopCapture(CaptureId id) =>
        (Find(id) ?? throw new InvalidOperationException($"capture {id} is not running")).RequestGracefulStop();

    /// <summary>Creates a changefeed over the given tables, starting at the current upstream time.</summary>
    public async Task<ChangefeedInfo> CreateChangefeedAsync(IReadOnlyList<TableId> tables, string id = "changefeed-1")
    {
        var info = new ChangefeedInfo { Id = id, Tables = tables, StartTs = Clock.Now(), Epoch = new ChangefeedEpoch(Clock.Next().Value) };
        await Metadata.PutChangefeedAsync(info, CancellationToken.None).ConfigureAwait(false);
        return info;
    }

    /// <summary>Asks the owner to move a table; in manual mode steps until the owner has executed the request.</summary>
    public Task<CommandResult> MoveTableAsync(ChangefeedId changefeed, TableId table, CaptureId target) =>
        SendCommandAsync(changefeed, owner => owner.MoveTableAsync(table, target), CommandResult.Refused);

    /// <summary>Asks the owner for a burst rebalance.</summary>
    public Task<CommandResult> RebalanceAsync(ChangefeedId changefeed) =>
        SendCommandAsync(changefeed, owner => owner.RebalanceAsync(), CommandResult.Refused);

    /// <summary>Asks the owner to drain a capture.</summary>
    public Task<DrainResult> DrainCaptureAsync(ChangefeedId changefeed, CaptureId capture) =>
        SendCommandAsync(changefeed, owner => owner.DrainCaptureAsync(capture), reason => new DrainResult(DrainStatus.Refused, 0, reason));

    /// <summary>Reads one table's replication set from the owner (null when there is no owner or no set).</summary>
    public Task<ReplicationSetView?> DescribeTableAsync(ChangefeedId changefeed, TableId table) =>
        SendCommandAsync(changefeed, owner => owner.DescribeTableAsync(table), _ => null);

    /// <summary>Manual mode: advances fake time by one tick and steps every capture in id order.</summary>
    public void Step()
    {
        if (IsRealTime)
        {
            throw new InvalidOperationException("Step() is for manual step mode");
        }

        ManualTime!.Advance(Options.TickMilliseconds);
        Interlocked.Increment(ref _steps);
        ExpireDueSessions();
        var nodes = Captures;
        foreach (var node in nodes)
        {
            RunSynchronously(node.StepHousekeepingAsync());
        }

        foreach (var node in nodes)
        {
            RunSynchronously(node.StepOwnersAsync());
        }

        foreach (var node in nodes)
        {
            node.StepAgents();
        }
    }

    /// <summary>Manual mode: steps until <paramref name="condition"/> holds; returns the steps taken or throws <see cref="TimeoutException"/>.</summary>
    public int StepUntil(Func<bool> condition, int maxSteps, string? what = null, ChangefeedId? changefeed = null)
    {
        for (int step = 0; step <= maxSteps; step++)
        {
            if (condition())
            {
                return step;
            }

            if (step < maxSteps)
            {
                Step();
            }
        }

        string state = changefeed is { } id ? "\n" + Snapshot(id) : string.Empty;
        throw new TimeoutException($"not reached within {maxSteps} steps (seed {Options.Seed}): {what ?? "condition"}{state}");
    }

    /// <summary>Either mode: waits (manual: steps; real time: polls) until the condition holds; false on timeout.</summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!IsRealTime)
        {
            int maxSteps = (int)Math.Max(1, timeout.TotalMilliseconds / Options.TickMilliseconds);
            for (int step = 0; step < maxSteps && !condition(); step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Step();
            }

            return condition();
        }

        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!condition())
        {
            if (DateTimeOffset.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>The cluster now, for one changefeed.</summary>
    public ClusterSnapshot Snapshot(ChangefeedId changefeed)
    {
        var info = Metadata.GetChangefeedAsync(changefeed, CancellationToken.None).Result;
        var status = Metadata.GetStatusAsync(changefeed, CancellationToken.None).Result;
        var nodes = Captures;
        OwnerSnapshot? owner = OwnerSnapshotOf(nodes, changefeed);
        var views = new List<CaptureView>(nodes.Count);
        foreach (var node in nodes)
        {
            var snapshot = node.Snapshot();
            IReadOnlyList<int> spans = new int[(int)TableState.Stopped + 1];
            foreach (var agent in snapshot.Agents)
            {
                if (agent.Changefeed == changefeed)
                {
                    spans = agent.SpansByState;
                }
            }

            int primaries = owner is not null ? owner.PrimaryCounts.GetValueOrDefault(node.Id) : 0;
            views.Add(new CaptureView(node.Id, node.Epoch, snapshot.State, snapshot.Liveness, snapshot.IsOwner, spans, primaries));
        }

        return new ClusterSnapshot
        {
            Step = Steps,
            NowMilliseconds = Clock.NowMilliseconds,
            Changefeed = changefeed,
            Tables = info?.Tables.Count ?? 0,
            Owner = owner?.Owner ?? CaptureId.None,
            OwnerView = owner,
            Captures = views,
            CheckpointTs = status?.CheckpointTs ?? info?.StartTs ?? Ts.Zero,
            ResolvedTs = status?.ResolvedTs ?? info?.StartTs ?? Ts.Zero,
        };
    }

    /// <summary>Proves from the ledger that every table of the changefeed was applied without a gap up to the persisted checkpoint.</summary>
    public GapReport CheckGaps(ChangefeedId changefeed)
    {
        var info = Metadata.GetChangefeedAsync(changefeed, CancellationToken.None).Result
            ?? throw new InvalidOperationException($"changefeed {changefeed} does not exist");
        var status = Metadata.GetStatusAsync(changefeed, CancellationToken.None).Result;
        return GapChecker.CheckTables(Ledger, changefeed, info.Tables, info.StartTs, status?.CheckpointTs ?? info.StartTs, Workload);
    }

    /// <summary>Stops every loop and capture.</summary>
    public async ValueTask DisposeAsync()
    {
        await _run.CancelAsync().ConfigureAwait(false);
        if (_housekeeping is not null)
        {
            await _housekeeping.ConfigureAwait(false);
        }

        foreach (var node in Incarnations)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        await Membership.DisposeAsync().ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        _run.Dispose();
    }

    private static OwnerSnapshot? OwnerSnapshotOf(IReadOnlyList<CaptureNode> nodes, ChangefeedId changefeed)
    {
        OwnerSnapshot? best = null;
        foreach (var node in nodes)
        {
            foreach (var owner in node.Owners)
            {
                var snapshot = owner.Snapshot;
                if (owner.Changefeed == changefeed && !snapshot.Deposed && (best is null || snapshot.Revision > best.Revision))
                {
                    best = snapshot;
                }
            }
        }

        return best;
    }

    private OwnerHost? FindOwnerHost(ChangefeedId changefeed)
    {
        OwnerHost? best = null;
        foreach (var node in Captures)
        {
            foreach (var owner in node.Owners)
            {
                if (owner.Changefeed == changefeed && !owner.Deposed && (best is null || owner.Revision > best.Revision))
                {
                    best = owner;
                }
            }
        }

        return best;
    }

    private async Task<T> SendCommandAsync<T>(ChangefeedId changefeed, Func<OwnerHost, Task<T>> send, Func<string, T> refused)
    {
        var owner = FindOwnerHost(changefeed);
        if (owner is null)
        {
            return refused("there is no owner right now (fail-over in progress); retry");
        }

        var pending = send(owner);
        if (!IsRealTime)
        {
            for (int step = 0; step < 4 && !pending.IsCompleted; step++)
            {
                Step();
            }
        }

        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (OwnerUnavailableException error)
        {
            return refused(error.Message);
        }
    }

    private void ExpireDueSessions()
    {
        List<CaptureId> due = [];
        long now = Clock.NowMilliseconds;
        lock (_gate)
        {
            for (int i = _pendingExpiries.Count - 1; i >= 0; i--)
            {
                if (_pendingExpiries[i].DueMilliseconds <= now)
                {
                    due.Add(_pendingExpiries[i].Capture);
                    _pendingExpiries.RemoveAt(i);
                }
            }
        }

        foreach (var capture in due)
        {
            Membership.Expire(capture);
        }
    }

    private async Task RunHousekeepingAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Options.TickMilliseconds));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                ExpireDueSessions();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static void RunSynchronously(ValueTask step)
    {
        if (!step.IsCompleted)
        {
            throw new InvalidOperationException("manual step mode needs edges that complete synchronously");
        }

        step.GetAwaiter().GetResult();
    }
}
