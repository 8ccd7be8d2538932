namespace Capstan.Core.Member;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// Tracks the alive captures of one changefeed: their initialisation (first heartbeat response),
/// their processor epochs and liveness, and the tables each last reported. It detects the one-time
/// "all captures initialised" moment, records captures that leave or restart for the replication
/// manager, and produces the periodic heartbeats. Single-threaded; the coordinator drives it.
/// </summary>
/// <remarks>
/// Deviation from TiCDC (spec §13 #1): a response with a different processor epoch from an
/// initialised capture is a restart under the same id, not something to ignore forever. The new
/// incarnation is adopted and, once the manager is initialised, reported by
/// <see cref="TakeRestarted"/> so that the coordinator drops the old incarnation's roles. Late
/// responses of a superseded incarnation are recognised and ignored.
/// </remarks>
public sealed class CaptureManager
{
    private readonly CaptureId _ownerId;
    private readonly OwnerRevision _revision;
    private readonly int _heartbeatTicks;
    private readonly int _collectStatsTicks;

    /// <summary>Known captures, in capture-id order.</summary>
    private readonly SortedDictionary<CaptureId, CaptureStatus> _captures = [];

    /// <summary>The values of <see cref="_captures"/> in capture-id order, rebuilt when membership changes (iterated without allocating).</summary>
    private CaptureStatus[] _statuses = [];

    /// <summary>The ids of the last alive-capture update in its enumeration order: an unchanged membership is recognised by one pass of comparisons.</summary>
    private CaptureId[] _lastAlive = [];

    /// <summary>Restarted captures not yet taken, in detection order, without duplicates.</summary>
    private readonly List<CaptureId> _restarted = [];

    /// <summary>Changes not yet taken: Init (once) and Removed.</summary>
    private SortedDictionary<CaptureId, IReadOnlyList<TableStatus>>? _pendingInit;
    private SortedDictionary<CaptureId, IReadOnlyList<TableStatus>>? _pendingRemoved;

    /// <summary>The span list of each capture's last heartbeat; handed out again while unchanged (never mutated).</summary>
    private readonly Dictionary<CaptureId, Span[]> _lastHeartbeatSpans = [];

    /// <summary>Logical clock for heartbeats and stats collection.</summary>
    private long _tickCounter;

    /// <summary>The next heartbeat asks for stats.</summary>
    private bool _pendingCollect;

    /// <summary>Creates a manager for the coordinator running on <paramref name="ownerId"/> in term <paramref name="revision"/>.</summary>
    public CaptureManager(CaptureId ownerId, OwnerRevision revision, SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.HeartbeatTicks <= 0 || config.CollectStatsTicks <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(config), "HeartbeatTicks and CollectStatsTicks must be > 0");
        }

        _ownerId = ownerId;
        _revision = revision;
        _heartbeatTicks = config.HeartbeatTicks;
        _collectStatsTicks = config.CollectStatsTicks;
    }

    /// <summary>Known captures; enumerates in capture-id order.</summary>
    public IReadOnlyDictionary<CaptureId, CaptureStatus> Captures => _captures;

    /// <summary>True once every capture was seen initialised at an alive-capture update (set once, never cleared).</summary>
    public bool IsInitialized { get; private set; }

    /// <summary>Heartbeat responses dropped: from unknown captures or from superseded incarnations.</summary>
    public long IgnoredResponseCount { get; private set; }

    /// <summary>Restarts detected so far (after initialisation).</summary>
    public long RestartCount { get; private set; }

    /// <summary>
    /// True when the manager is initialised, knows at least one capture, and none of them is
    /// still Uninitialized. While false, the coordinator neither schedules nor accepts manual operations.
    /// </summary>
    public bool CheckAllCaptureInitialized() => IsInitialized && AllKnownCapturesAnswered();

    /// <summary>
    /// True when <paramref name="capture"/> left membership and its removal has not been taken
    /// yet (<see cref="TakeChanges"/> waits until every capture is initialised). If it is known
    /// again meanwhile, that is a new incarnation, while the replication sets still hold the old
    /// one's roles.
    /// </summary>
    public bool HasPendingRemoval(CaptureId capture) => _pendingRemoved?.ContainsKey(capture) == true;

    /// <summary>Applies every HeartbeatResponse in <paramref name="messages"/>; other messages are ignored.</summary>
    public void HandleMessages(IReadOnlyList<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int index = 0; index < messages.Count; index++)
        {
            var message = messages[index];
            if (message.Type != MessageType.HeartbeatResponse || message.HeartbeatResponse is null)
            {
                continue;
            }

            if (!_captures.TryGetValue(message.From, out var status))
            {
                IgnoredResponseCount++;
                continue;
            }

            switch (status.HandleHeartbeatResponse(message.HeartbeatResponse, message.Header.ProcessorEpoch, keepTables: !IsInitialized))
            {
                case CaptureStatus.ResponseOutcome.Stale:
                    IgnoredResponseCount++;
                    break;
                case CaptureStatus.ResponseOutcome.Restarted when IsInitialized:
                    RecordRestart(status.Id);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// Reconciles the known captures with <paramref name="alive"/>: a new capture starts
    /// Uninitialized and gets an empty heartbeat (appended to <paramref name="outbox"/>); a capture
    /// that left is forgotten, and after initialisation its last tables are recorded as removed.
    /// The first time every capture has answered, the Init change is recorded and the manager
    /// becomes initialised.
    /// </summary>
    public void HandleAliveCaptureUpdate(IReadOnlyDictionary<CaptureId, CaptureInfo> alive, List<Message> outbox)
    {
        ArgumentNullException.ThrowIfNull(alive);
        ArgumentNullException.ThrowIfNull(outbox);
        bool changed = !IsSameMembership(alive);
        if (changed)
        {
            AddNewCaptures(alive, outbox);
            RemoveLeftCaptures(alive);
            _statuses = [.. _captures.Values];
            _lastAlive = [.. alive.Keys];
        }

        if (!IsInitialized && AllKnownCapturesAnswered())
        {
            _pendingInit = [];
            foreach (var status in _statuses)
            {
                _pendingInit[status.Id] = status.Tables;
                status.ReleaseTables();
            }

            _pendingRemoved = null;
            IsInitialized = true;
            changed = true;
        }

        if (changed)
        {
            AssertInvariants(); // nothing it checks can change while membership stays the same
        }
    }

    /// <summary>The changes recorded since the last take, or null; always null before initialisation.</summary>
    public CaptureChanges? TakeChanges()
    {
        if (!IsInitialized || (_pendingInit is null && _pendingRemoved is null))
        {
            return null;
        }

        var changes = new CaptureChanges { Init = _pendingInit, Removed = _pendingRemoved };
        _pendingInit = null;
        _pendingRemoved = null;
        return changes;
    }

    /// <summary>
    /// Captures found restarted (new processor epoch) since the last take, in detection order.
    /// Their replication roles belong to the old incarnation; the coordinator treats them as removed.
    /// </summary>
    public IReadOnlyList<CaptureId> TakeRestarted()
    {
        if (_restarted.Count == 0)
        {
            return [];
        }

        var taken = _restarted.ToArray();
        _restarted.Clear();
        return taken;
    }

    /// <summary>
    /// Advances the logical clock. Every <see cref="SchedulerConfig.HeartbeatTicks"/> ticks, appends
    /// one heartbeat per known capture (capture-id order) listing every span in which it holds any
    /// role, flagged IsStopping for <paramref name="drainingTarget"/>, and asking for stats when a
    /// stats collection fell due since the last heartbeat.
    /// </summary>
    public void Tick(SpanMap<ReplicationSet> sets, CaptureId drainingTarget, Barrier? barrier, List<Message> outbox)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(outbox);
        _tickCounter++;
        if (_tickCounter % _collectStatsTicks == 0)
        {
            _pendingCollect = true;
        }

        if (_tickCounter % _heartbeatTicks != 0)
        {
            return;
        }

        var index = CaptureIndex.All(_captures);
        var spans = CollectHeartbeatSpans(sets, index);
        for (int i = 0; i < index.Count; i++)
        {
            var id = index.Ids[i];
            outbox.Add(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                Heartbeat = new Heartbeat
                {
                    Spans = spans[i],
                    IsStopping = id == drainingTarget,
                    CollectStats = _pendingCollect,
                    Barrier = barrier,
                },
            });
        }

        _pendingCollect = false;
    }

    /// <summary>Throws when the manager's bookkeeping is inconsistent (a bug).</summary>
    public void AssertInvariants()
    {
        foreach (var (id, status) in _captures)
        {
            if (status.Id != id || status.IsOwner != (id == _ownerId))
            {
                throw new InvalidOperationException($"capture manager inconsistent: key '{id}' holds {status}");
            }
        }

        if (!IsInitialized && (_pendingRemoved is not null || _restarted.Count != 0))
        {
            throw new InvalidOperationException("capture manager inconsistent: changes recorded before initialisation");
        }
    }

    /// <summary>
    /// True when <paramref name="alive"/> lists the same ids, in the same order, as the last update
    /// (then the known captures are exactly those ids: only an update changes them).
    /// </summary>
    private bool IsSameMembership(IReadOnlyDictionary<CaptureId, CaptureInfo> alive)
    {
        if (alive.Count != _lastAlive.Length || alive.Count != _captures.Count)
        {
            return false;
        }

        int index = 0;
        if (alive is Dictionary<CaptureId, CaptureInfo> dictionary)
        {
            foreach (var id in dictionary.Keys) // the struct enumerator: no allocation
            {
                if (id != _lastAlive[index++])
                {
                    return false;
                }
            }

            return true;
        }

        foreach (var id in alive.Keys)
        {
            if (id != _lastAlive[index++])
            {
                return false;
            }
        }

        return true;
    }

    private bool AllKnownCapturesAnswered()
    {
        foreach (var status in _statuses)
        {
            if (status.State == CaptureState.Uninitialized)
            {
                return false;
            }
        }

        return _captures.Count != 0;
    }

    private void AddNewCaptures(IReadOnlyDictionary<CaptureId, CaptureInfo> alive, List<Message> outbox)
    {
        List<CaptureInfo>? added = null;
        foreach (var (id, info) in alive)
        {
            if (!_captures.ContainsKey(id))
            {
                (added ??= []).Add(info with { Id = id });
            }
        }

        if (added is null)
        {
            return;
        }

        added.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        foreach (var info in added)
        {
            _captures[info.Id] = new CaptureStatus(info.Id, info.Address, info.Id == _ownerId, _revision);
            outbox.Add(new Message { Type = MessageType.Heartbeat, To = info.Id, Heartbeat = Heartbeat.Empty });
        }
    }

    private void RemoveLeftCaptures(IReadOnlyDictionary<CaptureId, CaptureInfo> alive)
    {
        List<CaptureStatus>? left = null;
        foreach (var (id, status) in _captures)
        {
            if (!alive.ContainsKey(id))
            {
                (left ??= []).Add(status);
            }
        }

        if (left is null)
        {
            return;
        }

        foreach (var status in left)
        {
            _captures.Remove(status.Id);
            if (IsInitialized)
            {
                (_pendingRemoved ??= [])[status.Id] = status.Tables;

                // Removal supersedes a pending restart: the coordinator drops all of its roles anyway.
                _restarted.Remove(status.Id);
            }
        }
    }

    private void RecordRestart(CaptureId id)
    {
        RestartCount++;
        if (!_restarted.Contains(id))
        {
            _restarted.Add(id);
        }
    }

    /// <summary>
    /// Per known capture (index order), the spans in which it holds any role, in span order. A
    /// capture whose spans are the same as in its last heartbeat gets the same array again (arrays
    /// handed out are never changed), so a steady-state heartbeat allocates nothing per span: the
    /// walk only compares each span with the previous list and copies when they first differ.
    /// </summary>
    private Span[][] CollectHeartbeatSpans(SpanMap<ReplicationSet> sets, CaptureIndex index)
    {
        var previous = new Span[index.Count][];
        var matched = new int[index.Count];
        var changed = new List<Span>?[index.Count];
        for (int i = 0; i < index.Count; i++)
        {
            previous[i] = _lastHeartbeatSpans.TryGetValue(index.Ids[i], out var last) ? last : [];
        }

        int capacity = index.Count == 0 ? 0 : (sets.Count / index.Count) + 16;
        foreach (ref readonly var entry in sets.Ordered())
        {
            foreach (var (capture, _) in entry.Value.Captures)
            {
                int position = index.IndexOf(capture);
                if (position < 0)
                {
                    continue; // a role of a capture that already left: nobody to tell
                }

                if (changed[position] is null)
                {
                    var before = previous[position];
                    int next = matched[position];
                    if (next < before.Length && before[next] == entry.Key)
                    {
                        matched[position] = next + 1;
                        continue;
                    }

                    changed[position] = new List<Span>(capacity);
                    changed[position]!.AddRange(before.AsSpan(0, next));
                }

                changed[position]!.Add(entry.Key);
            }
        }

        var result = new Span[index.Count][];
        _lastHeartbeatSpans.Clear();
        for (int i = 0; i < index.Count; i++)
        {
            result[i] = changed[i] is { } list ? [.. list]
                : matched[i] == previous[i].Length ? previous[i]
                : previous[i][..matched[i]];
            _lastHeartbeatSpans[index.Ids[i]] = result[i];
        }

        return result;
    }
}
