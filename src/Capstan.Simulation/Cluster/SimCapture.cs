namespace Capstan.Simulation.Cluster;

using Capstan.Core.Agent;
using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Workload;
using Capstan.Simulation.Trace;

/// <summary>
/// One simulated capture process: its session with the metadata store, its current agent
/// incarnation (the real <see cref="Agent"/> over a <see cref="SimulatedTableExecutor"/>), and —
/// while it believes it is the owner — the real <see cref="Coordinator"/>.
/// </summary>
/// <remarks>
/// <para>One step, in order: read the store's answers and the membership view; the lease check
/// (fence when the lease is older than TTL − margin, before anything can sink); register a new
/// session and incarnation when fenced and the store is reachable; keep-alive; take up or drop
/// the owner role; advance the executor (sinks) and tick the agent; tick the coordinator.</para>
/// <para>Self-fencing: the capture only knows the send time of its last keep-alive that was
/// acknowledged, which is never later than the moment the store renewed the lease. So
/// "send time + TTL − margin" is strictly before the store's expiry, and the capture stops every
/// sink of its executor (the incarnation ends) before membership can drop it and the owner can
/// give its tables to someone else. A deposed owner that cannot reach the store keeps ticking
/// its coordinator (the worst case): agents drop its messages once they follow a newer owner,
/// and the store refuses its checkpoint writes.</para>
/// </remarks>
internal sealed class SimCapture
{
    private const int MaxInbox = 500_000;

    private readonly Simulator _sim;
    private readonly List<Message> _agentInbox = [];
    private readonly List<Message> _coordinatorInbox = [];
    private readonly List<Message> _outbox = [];
    private readonly List<EtcdResponse> _etcdInbox = [];
    private int _incarnations;
    private long _lastCoordinatorRevision;
    private Ts _lastSentCheckpoint;

    public SimCapture(Simulator sim, int index)
    {
        _sim = sim;
        Index = index;
        Id = new CaptureId($"c{index + 1}");
        Info = new CaptureInfo(Id, $"sim://{Id}", "0.1.0");
    }

    public int Index { get; }

    public CaptureId Id { get; }

    public CaptureInfo Info { get; }

    /// <summary>The process runs (false after a crash until it restarts).</summary>
    public bool IsUp { get; private set; }

    /// <summary>When the current process started; messages sent before belong to its predecessor's connections.</summary>
    public long BootTick { get; private set; }

    /// <summary>When a crashed capture restarts (long.MaxValue: never).</summary>
    public long DownUntil { get; set; }

    /// <summary>A stop-the-world pause lasts until this tick.</summary>
    public long PausedUntil { get; set; }

    /// <summary>The executor makes no progress until this tick.</summary>
    public long StalledUntil { get; set; }

    /// <summary>The current session (lease id), 0 when none.</summary>
    public long Lease { get; private set; }

    /// <summary>Send tick of the newest acknowledged keep-alive (or of the registration).</summary>
    public long LastAckedSendTick { get; private set; }

    /// <summary>The current agent incarnation; null while down or fenced.</summary>
    public Agent? Agent { get; private set; }

    /// <summary>The current incarnation's executor; null while down or fenced.</summary>
    public SimulatedTableExecutor? Executor { get; private set; }

    /// <summary>The current incarnation's liveness.</summary>
    public LivenessFlag? Liveness { get; private set; }

    /// <summary>The coordinator, while this capture believes it is the owner.</summary>
    public Coordinator? Coordinator { get; private set; }

    /// <summary>The owner revision of <see cref="Coordinator"/>.</summary>
    public OwnerRevision CoordinatorRevision { get; private set; }

    /// <summary>The checkpoint the coordinator ticks with: read at the start of the term, then each acknowledged write.</summary>
    public Ts OwnerCheckpoint { get; private set; }

    /// <summary>The membership view as this capture last saw it.</summary>
    public MembershipView View { get; private set; } = MembershipView.Empty;

    /// <summary>The last tick this process ran (was up and not paused).</summary>
    public long LastStepTick { get; private set; }

    /// <summary>True while paused at <paramref name="tick"/>.</summary>
    public bool IsPaused(long tick) => tick < PausedUntil;

    /// <summary>The capture may sink now: it has an incarnation and its lease is young enough.</summary>
    public bool MaySink(long tick) => Agent is not null
        && (_sim.Options.DisableSelfFencing || tick - LastAckedSendTick <= _sim.Options.LeaseTtlTicks - _sim.Options.FenceMarginTicks);

    /// <summary>Takes a message from the network; false when nobody here can take it.</summary>
    public bool Receive(Message message)
    {
        if (!IsUp)
        {
            return false;
        }

        bool forAgent = message.Type is MessageType.Heartbeat or MessageType.DispatchTableRequest;
        var inbox = forAgent ? _agentInbox : _coordinatorInbox;
        if ((forAgent ? Agent is null : Coordinator is null) || inbox.Count >= MaxInbox)
        {
            return false;
        }

        inbox.Add(message);
        return true;
    }

    /// <summary>One tick of this process.</summary>
    public void Step(long tick)
    {
        if (!IsUp)
        {
            if (tick < DownUntil)
            {
                return;
            }

            Boot(tick);
        }

        if (IsPaused(tick))
        {
            return;
        }

        LastStepTick = tick;
        ReadEtcd(tick);
        CheckLease(tick);
        if (Agent is null && !_sim.IsCutFromEtcd(Index))
        {
            Register(tick);
        }

        KeepAlive(tick);
        UpdateOwnerRole(tick);
        TickAgent(tick);
        TickCoordinator(tick);
    }

    /// <summary>Kills the process: sinks stop at once, the session is left to expire.</summary>
    public void Crash(long tick, long downUntil, string why)
    {
        _sim.Trace.Note(tick, TraceKind.Fault, $"{Id} crashes ({why}); restarts {(downUntil == long.MaxValue ? "never" : $"at t={downUntil}")}");
        EndIncarnation();
        DropCoordinator(tick, null);
        IsUp = false;
        Lease = 0;
        DownUntil = downUntil;
        PausedUntil = 0;
        StalledUntil = 0;
        _agentInbox.Clear();
        _coordinatorInbox.Clear();
    }

    /// <summary>A clean restart (e.g. after a drain): revoke the session, stop, and come back next tick.</summary>
    public void Restart(long tick, string why)
    {
        if (Lease != 0 && !_sim.IsCutFromEtcd(Index))
        {
            _sim.Etcd.Revoke(Lease, tick, why);
        }

        Crash(tick, tick + 1, why);
    }

    /// <summary>Gives up the owner role (the store elects the next campaigner).</summary>
    public bool Resign(long tick)
    {
        if (Coordinator is null || _sim.IsCutFromEtcd(Index) || View.OwnerLease != Lease)
        {
            return false;
        }

        _sim.Etcd.Resign(Lease, tick);
        DropCoordinator(tick, "resigned");
        return true;
    }

    private void Boot(long tick)
    {
        IsUp = true;
        BootTick = tick;
        Lease = 0;
        View = MembershipView.Empty;
        _sim.Stats.Restarts++;
        _sim.Trace.Note(tick, TraceKind.Fault, $"{Id} process starts");
    }

    private void ReadEtcd(long tick)
    {
        _etcdInbox.Clear();
        _sim.Etcd.Receive(Index, tick, _etcdInbox);
        foreach (var response in _etcdInbox)
        {
            switch (response.Request)
            {
                case KeepAliveRequest keepAlive when keepAlive.Lease == Lease && Lease != 0:
                    if (response.Ok)
                    {
                        LastAckedSendTick = Math.Max(LastAckedSendTick, keepAlive.SentTick);
                    }
                    else if (Agent is not null || Coordinator is not null)
                    {
                        Fence(tick, "the store says the session is gone");
                        DropCoordinator(tick, "session gone");
                    }

                    break;
                case PutStatusRequest put when response.Ok && Coordinator is not null && put.Revision == CoordinatorRevision:
                    OwnerCheckpoint = Ts.MaxOf(OwnerCheckpoint, put.CheckpointTs);
                    break;
            }
        }

        if (!_sim.IsCutFromEtcd(Index))
        {
            var view = _sim.Etcd.ViewAt(tick - _sim.EtcdDelay());
            if (view.Version > View.Version)
            {
                View = view;
            }
        }
    }

    private void CheckLease(long tick)
    {
        if (Agent is not null && !_sim.Options.DisableSelfFencing && tick - LastAckedSendTick > _sim.Options.LeaseTtlTicks - _sim.Options.FenceMarginTicks)
        {
            Fence(tick, $"lease age {tick - LastAckedSendTick} > TTL {_sim.Options.LeaseTtlTicks} − margin {_sim.Options.FenceMarginTicks}");
        }
    }

    /// <summary>Stops every sink at once; the incarnation is over. A coordinator, if any, is left running.</summary>
    private void Fence(long tick, string why)
    {
        if (Agent is null)
        {
            return;
        }

        _sim.Stats.Fences++;
        _sim.Trace.Note(tick, TraceKind.Node, $"{Id} fences itself: {why}");
        EndIncarnation();
    }

    private void EndIncarnation()
    {
        Executor?.StopAll();
        Agent = null;
        Executor = null;
        Liveness = null;
        _agentInbox.Clear();
    }

    private void Register(long tick)
    {
        if (Lease != 0)
        {
            _sim.Etcd.Revoke(Lease, tick, "fenced, registering again");
        }

        Lease = _sim.Etcd.Register(Index, Info, tick);
        LastAckedSendTick = tick;
        _nextKeepAlive = tick + _sim.Options.KeepaliveTicks;
        View = _sim.Etcd.Current;
        var epoch = new ProcessorEpoch($"{Id}.{++_incarnations}");
        var options = _sim.DrawExecutorOptions();
        Executor = new SimulatedTableExecutor(
            new SinkWriter(Id, epoch), Simulator.Changefeed, _sim.Clock, _sim.Ledger, _sim.Workload, options);
        Liveness = new LivenessFlag();
        var owner = View.Owner.IsNone ? default : new OwnerInfo(View.Owner, View.OwnerRevision, "0.1.0");
        Agent = new Agent(new AgentIdentity(Id, Simulator.Changefeed, epoch, Simulator.FeedEpoch, "0.1.0"), Executor, Liveness, owner);
        _sim.Stats.Registrations++;
        _sim.Trace.Note(tick, TraceKind.Node,
            $"{Id} starts incarnation {epoch} (prepare {options.PrepareMilliseconds} ms, stop {options.StopMilliseconds} ms, follows owner {owner.Capture}@r{owner.Revision.Value})");
    }

    private long _nextKeepAlive;

    private void KeepAlive(long tick)
    {
        if (Lease == 0 || Agent is null || tick < _nextKeepAlive)
        {
            return;
        }

        _sim.Etcd.Send(new KeepAliveRequest(Index, tick, tick + _sim.EtcdDelay(), Lease));
        _nextKeepAlive = tick + _sim.Options.KeepaliveTicks;
    }

    private void UpdateOwnerRole(long tick)
    {
        bool connected = !_sim.IsCutFromEtcd(Index);
        if (Coordinator is not null && connected && (View.Owner != Id || View.OwnerRevision != CoordinatorRevision))
        {
            DropCoordinator(tick, $"deposed: the store names {View.Owner}@r{View.OwnerRevision.Value}");
        }

        if (Coordinator is null && Agent is not null && connected && View.Owner == Id && View.OwnerLease == Lease
            && View.OwnerRevision.Value > _lastCoordinatorRevision && _sim.Etcd.IsAlive(Lease))
        {
            CoordinatorRevision = View.OwnerRevision;
            _lastCoordinatorRevision = CoordinatorRevision.Value;
            OwnerCheckpoint = _sim.Etcd.CheckpointTs;
            _lastSentCheckpoint = OwnerCheckpoint;
            Coordinator = _sim.NewCoordinator(Id, CoordinatorRevision);
            _coordinatorInbox.Clear();
            _sim.Trace.Note(tick, TraceKind.Node, $"{Id} becomes owner r{CoordinatorRevision.Value}, persisted checkpoint {_sim.Trace.FormatTs(OwnerCheckpoint)}");
        }
    }

    private void DropCoordinator(long tick, string? why)
    {
        if (Coordinator is null)
        {
            return;
        }

        if (why is not null)
        {
            _sim.Trace.Note(tick, TraceKind.Node, $"{Id} stops coordinator r{CoordinatorRevision.Value}: {why}");
        }

        Coordinator = null;
        _coordinatorInbox.Clear();
    }

    private void TickAgent(long tick)
    {
        if (Agent is null || Executor is null)
        {
            return;
        }

        if (tick >= StalledUntil)
        {
            Executor.Advance();
        }

        _outbox.Clear();
        AgentTickResult result;
        try
        {
            result = Agent.Tick(_agentInbox, _outbox);
        }
        catch (Exception error)
        {
            _sim.Checks.Fail(ViolationKind.NodeException, $"agent {Id} threw: {error}", -1);
            throw;
        }

        _agentInbox.Clear();
        Executor.ApplyBarrier(result.Barrier);
        Send(tick);
    }

    private void TickCoordinator(long tick)
    {
        if (Coordinator is null)
        {
            return;
        }

        var tables = _sim.TablesSnapshot;
        var input = new TickInput
        {
            CheckpointTs = OwnerCheckpoint,
            CurrentTables = tables,
            AliveCaptures = View.Alive,
            Inbox = _coordinatorInbox,
            Barrier = _sim.GlobalBarrier(),
        };
        TickResult result;
        try
        {
            result = Coordinator.Tick(input);
        }
        catch (Exception error)
        {
            _sim.Checks.Fail(ViolationKind.NodeException, $"coordinator {Id} r{CoordinatorRevision.Value} threw: {error}", -1);
            throw;
        }

        _coordinatorInbox.Clear();
        if (result.Failed)
        {
            _sim.Stats.FailedCoordinatorTicks++;
            _sim.Trace.Note(tick, TraceKind.Node, $"{Id} coordinator tick FAILED, recreating it: {result.Error!.Message}");
            Coordinator = _sim.NewCoordinator(Id, CoordinatorRevision);
            return;
        }

        _outbox.Clear();
        _outbox.AddRange(result.Outbox);
        Send(tick);
        var watermark = result.Watermark;
        if (watermark.CheckpointTs.Value != 0 && watermark.CheckpointTs != _lastSentCheckpoint)
        {
            _lastSentCheckpoint = watermark.CheckpointTs;
            var persisted = _sim.Options.CheckpointLieMilliseconds == 0 ? watermark.CheckpointTs
                : Ts.FromPhysical(watermark.CheckpointTs.PhysicalMilliseconds + _sim.Options.CheckpointLieMilliseconds);
            _sim.Etcd.Send(new PutStatusRequest(Index, tick, tick + _sim.EtcdDelay(), CoordinatorRevision, persisted, watermark.ResolvedTs, tables));
        }
    }

    private void Send(long tick)
    {
        foreach (var message in _outbox)
        {
            int to = _sim.IndexOf(message.To);
            if (to < 0)
            {
                _sim.Trace.Message(tick, TraceKind.Undeliverable, message, tick);
                continue;
            }

            _sim.Network.Send(Index, to, message, tick);
        }

        _outbox.Clear();
    }
}
