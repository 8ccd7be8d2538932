namespace Capstan.Runtime.Hosting;

using System.Threading.Channels;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Transport;
using Capstan.Runtime.Workload;

/// <summary>One replication set as the owner sees it (for snapshots and the demo).</summary>
/// <param name="Span">The span.</param>
/// <param name="State">The set's state.</param>
/// <param name="Primary">The capture replicating it, or None.</param>
/// <param name="Secondary">The capture preparing it, or None.</param>
/// <param name="Checkpoint">The set's checkpoint.</param>
public readonly record struct ReplicationSetView(Span Span, ReplicationSetState State, CaptureId Primary, CaptureId Secondary, Checkpoint Checkpoint)
{
    /// <summary>Reads a set.</summary>
    public static ReplicationSetView Of(ReplicationSet set) => new(set.Span, set.State, set.Primary, set.Secondary, set.Checkpoint);

    /// <inheritdoc/>
    public override string ToString() =>
        $"table {Span.TableId}: {State}, primary {(Primary.IsNone ? "-" : Primary)}, secondary {(Secondary.IsNone ? "-" : Secondary)}";
}

/// <summary>What an owner host looked like after its last step (immutable; safe to read from any thread).</summary>
public sealed record OwnerSnapshot
{
    /// <summary>The owner capture.</summary>
    public required CaptureId Owner { get; init; }

    /// <summary>The owner term.</summary>
    public required OwnerRevision Revision { get; init; }

    /// <summary>The changefeed.</summary>
    public required ChangefeedId Changefeed { get; init; }

    /// <summary>Steps taken by this host.</summary>
    public long Steps { get; init; }

    /// <summary>True when every capture answered (scheduling runs).</summary>
    public bool IsInitialized { get; init; }

    /// <summary>The persisted checkpoint.</summary>
    public Ts CheckpointTs { get; init; }

    /// <summary>The persisted resolved ts.</summary>
    public Ts ResolvedTs { get; init; }

    /// <summary>The last watermark (may be "cannot proceed").</summary>
    public Watermark LastWatermark { get; init; }

    /// <summary>Replication sets per <see cref="ReplicationSetState"/> (index = state value).</summary>
    public IReadOnlyList<int> SetsByState { get; init; } = [];

    /// <summary>Replication sets in total.</summary>
    public int SetCount { get; init; }

    /// <summary>Replicating sets per primary capture.</summary>
    public IReadOnlyDictionary<CaptureId, int> PrimaryCounts { get; init; } = new Dictionary<CaptureId, int>();

    /// <summary>Known captures and their state as the coordinator sees them.</summary>
    public IReadOnlyDictionary<CaptureId, string> CaptureStates { get; init; } = new Dictionary<CaptureId, string>();

    /// <summary>Tasks in flight.</summary>
    public int RunningTasks { get; init; }

    /// <summary>The capture being drained, or None.</summary>
    public CaptureId DrainingTarget { get; init; }

    /// <summary>Ticks that failed (inconsistent set) over all coordinator incarnations.</summary>
    public long FailedTicks { get; init; }

    /// <summary>How many times the coordinator was recreated after a failed tick.</summary>
    public int CoordinatorRestarts { get; init; }

    /// <summary>Accepted tasks, by kind, of the current coordinator.</summary>
    public IReadOnlyDictionary<string, long> AcceptedTasks { get; init; } = new Dictionary<string, long>();

    /// <summary>The sets of the watched tables (see <see cref="TableWatchList"/>).</summary>
    public IReadOnlyList<ReplicationSetView> Watched { get; init; } = [];

    /// <summary>True once this host lost its term (its lease ended or a status write was refused).</summary>
    public bool Deposed { get; init; }
}

/// <summary>Tables whose replication sets owner snapshots describe in detail. Thread-safe.</summary>
public sealed class TableWatchList
{
    private volatile TableId[] _tables = [];
    private readonly Lock _gate = new();

    /// <summary>The watched tables.</summary>
    public IReadOnlyList<TableId> Tables => _tables;

    /// <summary>Adds a table.</summary>
    public void Watch(TableId table)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_tables, table) < 0)
            {
                _tables = [.. _tables, table];
            }
        }
    }

    /// <summary>Removes every table.</summary>
    public void Clear() => _tables = [];
}

/// <summary>
/// Runs one changefeed's <see cref="Coordinator"/> on the owner: each step executes queued commands,
/// takes the endpoint's inbox (role Scheduler), ticks the coordinator with the alive captures and
/// the upstream barrier, sends the outbox, and persists a checkpoint that moved forward
/// (<see cref="IMetadataStore.TryPutStatusAsync"/>, guarded by the owner lease; a refused write means
/// this owner was deposed and the host stops). It starts from the persisted checkpoint. A failed
/// tick (inconsistent replication set) recreates the coordinator, which rebuilds every set from the
/// agents' heartbeat responses. Commands are posted to a bounded inbox and executed inside the
/// loop: nobody else touches the coordinator.
/// </summary>
public sealed class OwnerHost : IDisposable
{
    private readonly CaptureId _self;
    private readonly IOwnerLease _lease;
    private volatile ChangefeedInfo _changefeed;
    private readonly CaptureServices _services;
    private readonly IMessageEndpoint _endpoint;
    private readonly Channel<OwnerCommand> _commands;
    private readonly TableWatchList? _watchList;
    private readonly IDeterministicRandom? _random;
    private volatile OwnerSnapshot _snapshot;
    private Ts _checkpointTs;
    private Ts _resolvedTs;
    private Watermark _lastWatermark;
    private long _steps;
    private long _failedTicks;
    private int _restarts;
    private bool _deposed;
    private bool _disposed;

    /// <summary>Creates the host, its coordinator and its endpoint.</summary>
    /// <param name="self">The owner capture.</param>
    /// <param name="lease">This owner term.</param>
    /// <param name="changefeed">The changefeed.</param>
    /// <param name="persisted">The persisted status, or null when none was written yet (then the changefeed's start ts).</param>
    /// <param name="services">The edges.</param>
    /// <param name="watchList">Tables to describe in snapshots; optional.</param>
    public OwnerHost(
        CaptureId self, IOwnerLease lease, ChangefeedInfo changefeed, ChangefeedStatus? persisted, CaptureServices services,
        TableWatchList? watchList = null)
    {
        _self = self;
        _lease = lease;
        _changefeed = changefeed;
        _services = services;
        _watchList = watchList;
        _checkpointTs = persisted?.CheckpointTs ?? changefeed.StartTs;
        _resolvedTs = persisted?.ResolvedTs ?? changefeed.StartTs;
        _random = services.Options.RandomSeed is { } seed ? new SeededRandom(seed ^ (ulong)lease.Revision.Value) : null;
        _commands = Channel.CreateBounded<OwnerCommand>(new BoundedChannelOptions(services.Options.CommandInboxCapacity)
        {
            SingleReader = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Coordinator = CreateCoordinator();
        _endpoint = services.Transport.Open(self, changefeed.Id, TransportRole.Scheduler);
        _snapshot = TakeSnapshot();
    }

    /// <summary>The coordinator (read it only from the host's loop, or in manual step mode).</summary>
    public Coordinator Coordinator { get; private set; }

    /// <summary>The changefeed.</summary>
    public ChangefeedId Changefeed => _changefeed.Id;

    /// <summary>The owner term.</summary>
    public OwnerRevision Revision => _lease.Revision;

    /// <summary>The state after the last step.</summary>
    public OwnerSnapshot Snapshot => _snapshot;

    /// <summary>True once the host lost its term; it does nothing more.</summary>
    public bool Deposed => _deposed;

    /// <summary>The last failed tick's error, if any.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Queues a manual move; completes when the loop executed it.</summary>
    public Task<CommandResult> MoveTableAsync(TableId table, CaptureId target) =>
        Post(coordinator => coordinator.MoveTable(table, target), CommandResult.Refused("the owner is busy; retry"));

    /// <summary>Queues a manual rebalance.</summary>
    public Task<CommandResult> RebalanceAsync() =>
        Post(coordinator => coordinator.Rebalance(), CommandResult.Refused("the owner is busy; retry"));

    /// <summary>Queues a drain request.</summary>
    public Task<DrainResult> DrainCaptureAsync(CaptureId capture) =>
        Post(coordinator => coordinator.DrainCapture(capture), new DrainResult(DrainStatus.Refused, 0, "the owner is busy; retry"));

    /// <summary>Queues a read of one table's replication set (null when the changefeed has no such set).</summary>
    public Task<ReplicationSetView?> DescribeTableAsync(TableId table) =>
        Post(coordinator => coordinator.ReplicationSets.TryGetValue(TableSpans.WholeTable(table), out var set)
            ? ReplicationSetView.Of(set)
            : (ReplicationSetView?)null, null);

    /// <summary>
    /// Takes a new definition of the same changefeed incarnation (tables added or dropped); the next
    /// tick schedules the new table list. Ignored for another changefeed or epoch.
    /// </summary>
    public void UpdateChangefeed(ChangefeedInfo changefeed)
    {
        ArgumentNullException.ThrowIfNull(changefeed);
        var current = _changefeed;
        if (changefeed.Id == current.Id && changefeed.Epoch == current.Epoch && !ReferenceEquals(changefeed.Tables, current.Tables))
        {
            _changefeed = changefeed;
        }
    }

    /// <summary>Queues any read or command against the coordinator (runs inside the loop).</summary>
    public Task<T> Post<T>(Func<Coordinator, T> command, T whenBusy)
    {
        var queued = new OwnerCommand<T>(command);
        if (_commands.Writer.TryWrite(queued))
        {
            return queued.Result;
        }

        if (_deposed || _disposed)
        {
            queued.Cancel("this owner stepped down");
            return queued.Result;
        }

        return Task.FromResult(whenBusy);
    }

    /// <summary>One iteration: commands, receive, tick, send, persist the checkpoint.</summary>
    public async ValueTask StepAsync(CancellationToken cancellationToken = default)
    {
        if (_deposed || _disposed)
        {
            return;
        }

        if (_lease.Lost.IsCancellationRequested)
        {
            StepDown();
            return;
        }

        while (_commands.Reader.TryRead(out var command))
        {
            command.Execute(Coordinator);
        }

        var result = Coordinator.Tick(TickInputFor(_endpoint.Receive()));
        _steps++;
        if (result.Failed)
        {
            LastError = result.Error;
            _failedTicks++;
            _restarts++;
            Coordinator = CreateCoordinator();
            _snapshot = TakeSnapshot();
            return;
        }

        _endpoint.Send(result.Outbox);
        _lastWatermark = result.Watermark;
        if (result.Watermark.CanProceed && result.Watermark.CheckpointTs > _checkpointTs)
        {
            await PersistAsync(result.Watermark, cancellationToken).ConfigureAwait(false);
        }

        _snapshot = TakeSnapshot();
    }

    /// <summary>Steps every interval until cancelled or deposed (real-time mode).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_services.Options.OwnerTickInterval);
        try
        {
            var failures = new StepFailures(_services.Logger, $"owner of {_changefeed.Id}");
            while (!_deposed && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await StepAsync(cancellationToken).ConfigureAwait(false);
                    failures.Succeeded();
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Persisting the checkpoint failed (etcd unreachable): it is persisted by a later tick.
                    failures.Failed(error);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes the endpoint and refuses queued commands.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _endpoint.Dispose();
        CancelQueued("this owner stepped down");
    }

    private TickInput TickInputFor(IReadOnlyList<Message> inbox)
    {
        var now = _services.Clock.Now();
        return new TickInput
        {
            CheckpointTs = _checkpointTs,
            CurrentTables = _changefeed.Tables,
            AliveCaptures = _services.Membership.AliveCaptures,
            Inbox = inbox,
            Barrier = new Barrier { GlobalBarrierTs = now },
            MinTableBarrierTs = now,
        };
    }

    private async ValueTask PersistAsync(Watermark watermark, CancellationToken cancellationToken)
    {
        var status = new ChangefeedStatus(watermark.CheckpointTs, Ts.MaxOf(_resolvedTs, watermark.ResolvedTs));
        bool written = await _services.Metadata.TryPutStatusAsync(_changefeed.Id, status, _lease, cancellationToken).ConfigureAwait(false);
        if (!written)
        {
            StepDown();
            return;
        }

        _checkpointTs = status.CheckpointTs;
        _resolvedTs = status.ResolvedTs;
    }

    private void StepDown()
    {
        _deposed = true;
        CancelQueued("this owner was deposed");
        _snapshot = TakeSnapshot();
    }

    private void CancelQueued(string reason)
    {
        _commands.Writer.TryComplete();
        while (_commands.Reader.TryRead(out var command))
        {
            command.Cancel(reason);
        }
    }

    private Coordinator CreateCoordinator() => new(new CoordinatorOptions
    {
        Self = _self,
        Changefeed = _changefeed.Id,
        OwnerRevision = _lease.Revision,
        ChangefeedEpoch = _changefeed.Epoch,
        Version = _services.Options.Version,
        Config = _services.Options.Scheduler,
        Random = _random,
    });

    private OwnerSnapshot TakeSnapshot()
    {
        var byState = new int[(int)ReplicationSetState.Removing + 1];
        var primaries = CountPrimaries(byState);

        var captures = new Dictionary<CaptureId, string>();
        foreach (var (id, status) in Coordinator.Captures)
        {
            captures[id] = status.State.ToString();
        }

        return new OwnerSnapshot
        {
            Owner = _self,
            Revision = _lease.Revision,
            Changefeed = _changefeed.Id,
            Steps = _steps,
            IsInitialized = Coordinator.IsInitialized,
            CheckpointTs = _checkpointTs,
            ResolvedTs = _resolvedTs,
            LastWatermark = _lastWatermark,
            SetsByState = byState,
            SetCount = Coordinator.ReplicationSets.Count,
            PrimaryCounts = primaries,
            CaptureStates = captures,
            RunningTasks = Coordinator.RunningTasks.Count,
            DrainingTarget = Coordinator.DrainingTarget,
            FailedTicks = _failedTicks,
            CoordinatorRestarts = _restarts,
            AcceptedTasks = new Dictionary<string, long>(Coordinator.AcceptedTaskCounts),
            Watched = WatchedViews(),
            Deposed = _deposed,
        };
    }

    /// <summary>
    /// One pass over every set: counts per state into <paramref name="byState"/>, and Replicating
    /// sets per primary. The per-set work is a short scan of the few captures seen so far (their id
    /// strings are usually the same instances, so a comparison is a reference check), not a
    /// dictionary lookup hashing the id.
    /// </summary>
    private Dictionary<CaptureId, int> CountPrimaries(int[] byState)
    {
        var captures = new List<CaptureId>();
        var counts = new List<int>();
        int last = -1;
        foreach (ref readonly var entry in Coordinator.ReplicationSets.Ordered())
        {
            var set = entry.Value;
            byState[(int)set.State]++;
            if (set.State != ReplicationSetState.Replicating || set.Primary.IsNone)
            {
                continue;
            }

            var primary = set.Primary;
            if (last < 0 || !SameCapture(captures[last], primary))
            {
                last = IndexOf(captures, primary);
                if (last < 0)
                {
                    captures.Add(primary);
                    counts.Add(0);
                    last = captures.Count - 1;
                }
            }

            counts[last]++;
        }

        var primaries = new Dictionary<CaptureId, int>(captures.Count);
        for (int i = 0; i < captures.Count; i++)
        {
            primaries[captures[i]] = primaries.GetValueOrDefault(captures[i]) + counts[i];
        }

        return primaries;
    }

    private static int IndexOf(List<CaptureId> captures, CaptureId capture)
    {
        for (int i = 0; i < captures.Count; i++)
        {
            if (SameCapture(captures[i], capture))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool SameCapture(CaptureId left, CaptureId right) =>
        ReferenceEquals(left.Value, right.Value) || string.Equals(left.Value, right.Value, StringComparison.Ordinal);

    private List<ReplicationSetView> WatchedViews()
    {
        List<ReplicationSetView> views = [];
        if (_watchList is null)
        {
            return views;
        }

        foreach (var table in _watchList.Tables)
        {
            if (Coordinator.ReplicationSets.TryGetValue(TableSpans.WholeTable(table), out var set))
            {
                views.Add(ReplicationSetView.Of(set));
            }
        }

        return views;
    }

    private abstract class OwnerCommand
    {
        public abstract void Execute(Coordinator coordinator);

        public abstract void Cancel(string reason);
    }

    private sealed class OwnerCommand<T>(Func<Coordinator, T> command) : OwnerCommand
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Result => _result.Task;

        public override void Execute(Coordinator coordinator)
        {
            try
            {
                _result.TrySetResult(command(coordinator));
            }
            catch (Exception error)
            {
                _result.TrySetException(error);
            }
        }

        public override void Cancel(string reason) => _result.TrySetException(new OwnerUnavailableException(reason));
    }
}

/// <summary>A command could not run because its owner stepped down; retry against the new owner.</summary>
public sealed class OwnerUnavailableException : Exception
{
    /// <summary>Creates the error.</summary>
    public OwnerUnavailableException(string message) : base(message)
    {
    }
}
