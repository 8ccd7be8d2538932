namespace Capstan.Simulation.Cluster;

using Capstan.Core.Member;
using Capstan.Core.Model;

/// <summary>What a capture sees of membership and the election at one moment (an etcd watch event).</summary>
/// <param name="Version">Grows with every change.</param>
/// <param name="Tick">When this view became current.</param>
/// <param name="Alive">Captures with a live session.</param>
/// <param name="Owner">The owner capture, or None.</param>
/// <param name="OwnerRevision">The owner's term (0 when none).</param>
/// <param name="OwnerLease">The session the owner key is bound to (0 when none).</param>
internal sealed record MembershipView(
    long Version, long Tick, IReadOnlyDictionary<CaptureId, CaptureInfo> Alive, CaptureId Owner, OwnerRevision OwnerRevision, long OwnerLease)
{
    public static readonly MembershipView Empty = new(0, 0, new Dictionary<CaptureId, CaptureInfo>(), CaptureId.None, default, 0);
}

/// <summary>A request a capture sent to the store, in flight.</summary>
internal abstract record EtcdRequest(int Capture, long SentTick, long ArrivesTick);

/// <summary>Renews a session.</summary>
internal sealed record KeepAliveRequest(int Capture, long SentTick, long ArrivesTick, long Lease) : EtcdRequest(Capture, SentTick, ArrivesTick);

/// <summary>A checkpoint write guarded by the writer's owner revision.</summary>
internal sealed record PutStatusRequest(int Capture, long SentTick, long ArrivesTick, OwnerRevision Revision, Ts CheckpointTs, Ts ResolvedTs, TableId[] Tables)
    : EtcdRequest(Capture, SentTick, ArrivesTick);

/// <summary>The store's answer to a request, in flight back to the capture.</summary>
/// <param name="Request">What it answers.</param>
/// <param name="Ok">Keep-alive: the lease was alive and is renewed. Status write: it was accepted.</param>
/// <param name="ArrivesTick">When it reaches the capture.</param>
internal sealed record EtcdResponse(EtcdRequest Request, bool Ok, long ArrivesTick);

/// <summary>
/// The simulated metadata store (etcd): sessions with TTL leases, membership (capture keys bound
/// to sessions), owner election with strictly increasing revisions, and the changefeed status
/// with a write guarded by the owner revision. Keep-alives and status writes travel with latency
/// on one FIFO channel per capture each way, and are lost when the capture is cut off from the
/// store at either end. Registration, revocation and reads are synchronous and need a connection.
/// </summary>
internal sealed class SimEtcd
{
    private const int HistoryCapacity = 64;

    private readonly Simulator _sim;
    private readonly SortedDictionary<long, Lease> _leases = [];
    private readonly Dictionary<CaptureId, long> _members = [];
    private readonly Queue<EtcdRequest>[] _requests;
    private readonly Queue<EtcdResponse>[] _responses;
    private readonly List<MembershipView> _history = [];
    private long _revision;
    private long _nextLease = 1;
    private long _lastOwnerRevision;
    private Lease? _owner;
    private OwnerRevision _ownerRevision;

    public SimEtcd(Simulator sim, int captures, Ts startTs)
    {
        _sim = sim;
        _requests = new Queue<EtcdRequest>[captures];
        _responses = new Queue<EtcdResponse>[captures];
        for (int i = 0; i < captures; i++)
        {
            _requests[i] = new Queue<EtcdRequest>();
            _responses[i] = new Queue<EtcdResponse>();
        }

        CheckpointTs = startTs;
        ResolvedTs = startTs;
        _history.Add(MembershipView.Empty);
    }

    /// <summary>The persisted changefeed checkpoint.</summary>
    public Ts CheckpointTs { get; private set; }

    /// <summary>The persisted resolved ts.</summary>
    public Ts ResolvedTs { get; private set; }

    /// <summary>The current view (what a capture with no lag would see).</summary>
    public MembershipView Current => _history[^1];

    /// <summary>Status writes accepted.</summary>
    public long WritesAccepted { get; private set; }

    /// <summary>Status writes refused because the writer was no longer the owner.</summary>
    public long WritesRefused { get; private set; }

    /// <summary>Owner elections held.</summary>
    public long Elections { get; private set; }

    /// <summary>Sessions expired by TTL.</summary>
    public long Expirations { get; private set; }

    /// <summary>True when the session is alive.</summary>
    public bool IsAlive(long lease) => _leases.ContainsKey(lease);

    /// <summary>Tick start: deliver requests that arrived, expire sessions, elect an owner if there is none.</summary>
    public void Step(long tick)
    {
        for (int capture = 0; capture < _requests.Length; capture++)
        {
            var queue = _requests[capture];
            while (queue.Count > 0 && queue.Peek().ArrivesTick <= tick)
            {
                var request = queue.Dequeue();
                if (!_sim.IsCutFromEtcd(capture))
                {
                    Handle(request, tick);
                }
            }
        }

        ExpireSessions(tick);
        Elect(tick);
        Publish(tick);
    }

    /// <summary>Sends a request from a capture (lost at once when it is cut off).</summary>
    public void Send(EtcdRequest request)
    {
        if (_sim.IsCutFromEtcd(request.Capture))
        {
            return;
        }

        var queue = _requests[request.Capture];
        long arrives = queue.Count > 0 ? Math.Max(request.ArrivesTick, LastOf(queue).ArrivesTick) : request.ArrivesTick;
        queue.Enqueue(request with { ArrivesTick = arrives });
    }

    /// <summary>Responses that reached the capture by <paramref name="tick"/> (lost while it is cut off).</summary>
    public void Receive(int capture, long tick, List<EtcdResponse> into)
    {
        var queue = _responses[capture];
        while (queue.Count > 0 && queue.Peek().ArrivesTick <= tick)
        {
            var response = queue.Dequeue();
            if (!_sim.IsCutFromEtcd(capture))
            {
                into.Add(response);
            }
        }
    }

    /// <summary>The newest view published at or before <paramref name="tick"/>.</summary>
    public MembershipView ViewAt(long tick)
    {
        for (int i = _history.Count - 1; i > 0; i--)
        {
            if (_history[i].Tick <= tick)
            {
                return _history[i];
            }
        }

        return _history[0];
    }

    /// <summary>Grants a session, binds the capture key to it and campaigns for owner. Needs a connection.</summary>
    public long Register(int capture, CaptureInfo info, long tick)
    {
        long lease = _nextLease++;
        _leases.Add(lease, new Lease(lease, capture, info) { LastRenewedTick = tick, CampaignRevision = ++_revision });
        _members[info.Id] = lease;
        _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"{info.Id} registers session L{lease} (campaign rev {_revision})");
        Elect(tick);
        Publish(tick);
        return lease;
    }

    /// <summary>Ends a session at once (graceful shutdown or a fenced capture coming back). Needs a connection.</summary>
    public void Revoke(long lease, long tick, string why)
    {
        if (_leases.TryGetValue(lease, out var record))
        {
            _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"{record.Info.Id} revokes session L{lease} ({why})");
            Remove(record, tick);
            Elect(tick);
            Publish(tick);
        }
    }

    /// <summary>The owner gives up its term and campaigns again at the back of the queue. Needs a connection.</summary>
    public void Resign(long lease, long tick)
    {
        if (_leases.TryGetValue(lease, out var record) && _owner == record)
        {
            _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"{record.Info.Id} resigns as owner r{_ownerRevision.Value}");
            record.CampaignRevision = ++_revision;
            SetOwner(null, tick);
            Elect(tick);
            Publish(tick);
        }
    }

    private static EtcdRequest LastOf(Queue<EtcdRequest> queue)
    {
        EtcdRequest last = null!;
        foreach (var item in queue)
        {
            last = item;
        }

        return last;
    }

    private void Handle(EtcdRequest request, long tick)
    {
        bool ok;
        switch (request)
        {
            case KeepAliveRequest keepAlive:
                ok = _leases.TryGetValue(keepAlive.Lease, out var lease);
                if (ok)
                {
                    lease!.LastRenewedTick = tick;
                }

                break;
            case PutStatusRequest put:
                ok = TryPutStatus(put, tick);
                break;
            default:
                throw new InvalidOperationException($"unknown request {request}");
        }

        Respond(new EtcdResponse(request, ok, tick + _sim.EtcdDelay()));
    }

    private void Respond(EtcdResponse response)
    {
        var queue = _responses[response.Request.Capture];
        long arrives = response.ArrivesTick;
        foreach (var earlier in queue)
        {
            arrives = Math.Max(arrives, earlier.ArrivesTick);
        }

        queue.Enqueue(response with { ArrivesTick = arrives });
    }

    /// <summary>The guarded write: only the current owner term may write; the checks run on what is stored.</summary>
    private bool TryPutStatus(PutStatusRequest put, long tick)
    {
        if (_owner is null || put.Revision != _ownerRevision)
        {
            WritesRefused++;
            _sim.Trace.Note(tick, Trace.TraceKind.Etcd,
                $"status write from r{put.Revision.Value} refused (owner is r{_ownerRevision.Value}): checkpoint {_sim.Trace.FormatTs(put.CheckpointTs)}");
            return false;
        }

        _sim.Checks.OnCheckpointPersisted(CheckpointTs, put.CheckpointTs, put.Tables, put.Revision);
        if (put.CheckpointTs != CheckpointTs)
        {
            _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"checkpoint {_sim.Trace.FormatTs(put.CheckpointTs)} persisted by r{put.Revision.Value}");
        }

        CheckpointTs = put.CheckpointTs;
        ResolvedTs = put.ResolvedTs;
        WritesAccepted++;
        _sim.Trace.Mix((long)CheckpointTs.Value);
        return true;
    }

    private void ExpireSessions(long tick)
    {
        List<Lease>? expired = null;
        foreach (var lease in _leases.Values)
        {
            if (tick - lease.LastRenewedTick > _sim.Options.LeaseTtlTicks)
            {
                (expired ??= []).Add(lease);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (var lease in expired)
        {
            Expirations++;
            _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"session L{lease.Id} of {lease.Info.Id} expired (last renewed t={lease.LastRenewedTick})");
            _sim.Checks.OnSessionExpired(lease.Capture, lease.Id);
            Remove(lease, tick);
        }
    }

    private void Remove(Lease lease, long tick)
    {
        _leases.Remove(lease.Id);
        if (_members.TryGetValue(lease.Info.Id, out long bound) && bound == lease.Id)
        {
            _members.Remove(lease.Info.Id);
        }

        if (_owner == lease)
        {
            SetOwner(null, tick);
        }
    }

    private void Elect(long tick)
    {
        if (_owner is not null)
        {
            return;
        }

        Lease? next = null;
        foreach (var lease in _leases.Values)
        {
            if (next is null || lease.CampaignRevision < next.CampaignRevision)
            {
                next = lease;
            }
        }

        if (next is not null)
        {
            SetOwner(next, tick);
        }
    }

    private void SetOwner(Lease? owner, long tick)
    {
        _owner = owner;
        if (owner is null)
        {
            _ownerRevision = default;
            return;
        }

        long revision = ++_revision;
        if (revision <= _lastOwnerRevision)
        {
            _sim.Checks.Fail(ViolationKind.Election, $"owner revision {revision} is not above the previous {_lastOwnerRevision}", -1);
        }

        _lastOwnerRevision = revision;
        _ownerRevision = new OwnerRevision(revision);
        Elections++;
        _sim.Trace.Note(tick, Trace.TraceKind.Etcd, $"{owner.Info.Id} elected owner r{revision} (session L{owner.Id})");
    }

    /// <summary>Publishes the current membership and owner as a new view when something changed.</summary>
    private void Publish(long tick)
    {
        var current = Current;
        long ownerLease = _owner?.Id ?? 0;
        var alive = BuildAlive();
        if (ownerLease == current.OwnerLease && _ownerRevision == current.OwnerRevision && SameMembers(alive, current.Alive))
        {
            return;
        }

        _history.Add(new MembershipView(current.Version + 1, tick, alive, _owner?.Info.Id ?? CaptureId.None, _ownerRevision, ownerLease));
        if (_history.Count > HistoryCapacity)
        {
            _history.RemoveAt(0);
        }
    }

    private Dictionary<CaptureId, CaptureInfo> BuildAlive()
    {
        var alive = new Dictionary<CaptureId, CaptureInfo>();
        foreach (var lease in _leases.Values)
        {
            if (_members.TryGetValue(lease.Info.Id, out long bound) && bound == lease.Id)
            {
                alive[lease.Info.Id] = lease.Info;
            }
        }

        return alive;
    }

    private static bool SameMembers(Dictionary<CaptureId, CaptureInfo> a, IReadOnlyDictionary<CaptureId, CaptureInfo> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var id in a.Keys)
        {
            if (!b.ContainsKey(id))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One session.</summary>
    private sealed class Lease(long id, int capture, CaptureInfo info)
    {
        public long Id { get; } = id;

        public int Capture { get; } = capture;

        public CaptureInfo Info { get; } = info;

        public long LastRenewedTick { get; set; }

        public long CampaignRevision { get; set; }
    }
}
