namespace Capstan.Core.Replication;

using System.Text;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// The owner-side state machine of one span (see <see cref="ReplicationSetState"/> for the
/// diagram). It is driven only by agents' reports (<c>Poll</c>) and by the replication manager's
/// commands (add, move, remove, capture shutdown), and rebuilt from agents' reports after an
/// owner change (the constructor).
/// </summary>
public sealed partial class ReplicationSet
{
    /// <summary>Capture → role.</summary>
    private RoleMap _captures;

    /// <summary>Stats reported by the primary; null until a non-empty report arrives.</summary>
    private Stats? _stats;

    /// <summary>True when the current stats carry a "puller-egress" stage (or no stats arrived yet: the seed counts).</summary>
    private bool _hasPullerEgress = true;

    /// <summary>Resolved ts of the "puller-egress" stage, cached when stats are replaced (read for every set on every poll).</summary>
    private Ts _pullerEgressResolvedTs;

    /// <summary>0 = not yet known, 1 = the span is its table's whole-table span, 2 = it is not. The span never changes.</summary>
    private byte _wholeTable;

    /// <summary>
    /// The checkpoint the set was created with; stands for every stage's checkpoint until real
    /// stats arrive (TiCDC seeds the stage map so that a span stuck in its incremental scan still
    /// holds back the puller watermark).
    /// </summary>
    private readonly Ts _seedTs;

    /// <summary>
    /// Creates a set for <paramref name="span"/> at <paramref name="checkpointTs"/>, rebuilding its
    /// state from the statuses agents reported (an empty map gives Absent).
    /// </summary>
    /// <exception cref="ReplicationSetInconsistentException">A status is for another span, or two captures replicate.</exception>
    public ReplicationSet(Span span, Ts checkpointTs, IEnumerable<KeyValuePair<CaptureId, TableStatus>>? statuses = null)
    {
        Span = span;
        _seedTs = checkpointTs;
        _pullerEgressResolvedTs = checkpointTs;
        Checkpoint = new Checkpoint(checkpointTs, checkpointTs, Ts.Zero);
        if (statuses is null)
        {
            State = ReplicationSetState.Absent;
            return;
        }

        Rebuild(statuses);
    }

    /// <summary>The span.</summary>
    public Span Span { get; }

    /// <summary>Current state.</summary>
    public ReplicationSetState State { get; private set; }

    /// <summary>The capture that replicates the span, or <see cref="CaptureId.None"/>.</summary>
    public CaptureId Primary => _captures.Primary;

    /// <summary>The span's progress; never regresses.</summary>
    public Checkpoint Checkpoint { get; private set; }

    /// <summary>Last non-empty stats, or null.</summary>
    public Stats? Stats => _stats;

    /// <summary>Captures holding a role (allocation-free to enumerate).</summary>
    public RoleMap Captures => _captures;

    /// <summary>
    /// The resolved ts of the "puller-egress" stage (the seed until stats arrive; the seed also
    /// when the last stats lack that stage, see <see cref="TryGetPullerEgressResolvedTs"/>).
    /// </summary>
    public Ts PullerEgressResolvedTs => _hasPullerEgress ? _pullerEgressResolvedTs : _seedTs;

    /// <summary>
    /// The resolved ts of the "puller-egress" stage. False when the last non-empty stats had no
    /// such stage (such a set does not take part in the slowest-puller computation). Before any
    /// stats arrive the stage is seeded with the creation checkpoint, so that a span stuck in its
    /// incremental scan still holds the puller watermark back.
    /// </summary>
    public bool TryGetPullerEgressResolvedTs(out Ts resolvedTs)
    {
        resolvedTs = _pullerEgressResolvedTs;
        return _hasPullerEgress;
    }

    /// <summary>
    /// The checkpoint of a pipeline stage (<see cref="StageNames"/>): from the last non-empty
    /// stats, or the creation checkpoint for the five known stages until stats arrive; null when
    /// unknown.
    /// </summary>
    public Checkpoint? StageCheckpoint(string stage)
    {
        if (_stats is not null)
        {
            return _stats.StageCheckpoints.TryGetValue(stage, out var reported) ? reported : null;
        }

        foreach (var known in StageNames.All)
        {
            if (known == stage)
            {
                return new Checkpoint(_seedTs, _seedTs, Ts.Zero);
            }
        }

        return null;
    }

    /// <summary>True when the set was removing and no holder is left: the manager deletes it.</summary>
    public bool HasRemoved => State == ReplicationSetState.Removing && _captures.Count == 0;

    /// <summary>The first capture with role Secondary, or None.</summary>
    public CaptureId Secondary
    {
        get
        {
            foreach (var (capture, role) in _captures)
            {
                if (role == CaptureRole.Secondary)
                {
                    return capture;
                }
            }

            return CaptureId.None;
        }
    }

    /// <summary>
    /// True when the span is its table's whole-table span (<see cref="TableSpans.WholeTable"/>).
    /// Cached after the first call: the watermark walk then decides coverage without reading key
    /// bytes.
    /// </summary>
    internal bool IsWholeTableSpan() => _wholeTable == 1 || (_wholeTable == 0 && CheckWholeTableSpan());

    private bool CheckWholeTableSpan()
    {
        Span<byte> start = stackalloc byte[TableSpans.TableKeyLength];
        Span<byte> end = stackalloc byte[TableSpans.TableKeyLength];
        TableSpans.WriteTableStartKey(Span.TableId, start);
        TableSpans.WriteTableEndKey(Span.TableId, end);
        _wholeTable = Span.StartKey.SequenceEqual(start) && Span.EndKey.SequenceEqual(end) ? (byte)1 : (byte)2;
        return _wholeTable == 1;
    }

    /// <summary>True when <paramref name="capture"/> holds any role.</summary>
    public bool HasCapture(CaptureId capture) => _captures.Contains(capture);

    /// <summary>The role of <paramref name="capture"/>, or null.</summary>
    public CaptureRole? RoleOf(CaptureId capture) => _captures.TryGet(capture, out var role) ? role : null;

    /// <summary>A one-line description of the full state, for errors and logs.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("{span ").Append(Span).Append(", state ").Append(State)
            .Append(", primary '").Append(Primary).Append("', captures [");
        bool first = true;
        foreach (var (capture, role) in _captures)
        {
            text.Append(first ? string.Empty : ", ").Append(capture).Append(':').Append(role);
            first = false;
        }

        text.Append("], checkpoint ").Append(Checkpoint.CheckpointTs).Append('/').Append(Checkpoint.ResolvedTs).Append('}');
        return text.ToString();
    }

    private void Rebuild(IEnumerable<KeyValuePair<CaptureId, TableStatus>> statuses)
    {
        bool committed = false;
        int stopping = 0;
        // Capture order is made deterministic so that errors and roles do not depend on map order.
        foreach (var (capture, status) in statuses.OrderBy(pair => pair.Key))
        {
            if (status.Span != Span)
            {
                throw Inconsistent($"status of capture '{capture}' is for {status.Span}");
            }

            UpdateCheckpointAndStats(status.Checkpoint, status.Stats);
            switch (status.State)
            {
                case TableState.Replicating:
                    if (!Primary.IsNone)
                    {
                        throw new ReplicationSetMultiplePrimaryException($"'{capture}' and '{Primary}' both replicate; {this}");
                    }

                    SetCapture(capture, CaptureRole.Secondary);
                    PromoteSecondary(capture);
                    break;
                case TableState.Preparing:
                    SetCapture(capture, CaptureRole.Secondary);
                    break;
                case TableState.Prepared:
                    SetCapture(capture, CaptureRole.Secondary);
                    MarkPrepared(capture);
                    committed = true;
                    break;
                case TableState.Stopping:
                    SetCapture(capture, CaptureRole.Undetermined);
                    stopping++;
                    break;
                default:
                    break; // Absent, Stopped, Unknown: the capture does not hold the span.
            }
        }

        State = DeriveRebuiltState(committed, stopping);
    }

    private ReplicationSetState DeriveRebuiltState(bool committed, int stopping)
    {
        var state = ReplicationSetState.Unknown;
        if (!Primary.IsNone)
        {
            state = ReplicationSetState.Replicating;
        }

        if (!Secondary.IsNone)
        {
            state = ReplicationSetState.Prepare;
        }

        if (committed)
        {
            state = ReplicationSetState.Commit;
        }

        if (_captures.Count == 0)
        {
            state = ReplicationSetState.Absent;
        }

        if (state == ReplicationSetState.Unknown && stopping == _captures.Count)
        {
            state = ReplicationSetState.Removing;
        }

        return state;
    }

    /// <summary>
    /// Advances checkpoint, resolved ts and last-synced ts (never backwards) and replaces the
    /// stats when the report has any.
    /// </summary>
    private void UpdateCheckpointAndStats(Checkpoint reported, Stats? stats)
    {
        Ts resolved = reported.ResolvedTs;
        if (resolved < reported.CheckpointTs && resolved == Ts.Zero)
        {
            // A removed span reports no resolved ts; treat it as equal to its checkpoint.
            resolved = reported.CheckpointTs;
        }

        var previous = Checkpoint;
        var next = new Checkpoint(
            Ts.MaxOf(previous.CheckpointTs, reported.CheckpointTs),
            Ts.MaxOf(previous.ResolvedTs, resolved),
            Ts.MaxOf(previous.LastSyncedTs, reported.LastSyncedTs));
        if (next.CheckpointTs < previous.CheckpointTs || next.ResolvedTs < previous.ResolvedTs
            || next.LastSyncedTs < previous.LastSyncedTs)
        {
            throw new InvalidOperationException($"checkpoint regressed from {previous} to {next}; {this}");
        }

        Checkpoint = next;
        if (stats is not null && !stats.IsEmpty)
        {
            _stats = stats;
            _hasPullerEgress = stats.StageCheckpoints.TryGetValue(StageNames.PullerEgress, out var stage);
            _pullerEgressResolvedTs = _hasPullerEgress ? stage.ResolvedTs : Ts.Zero;
        }
    }

    private void SetCapture(CaptureId capture, CaptureRole role)
    {
        if (_captures.TryGet(capture, out var current) && current != role)
        {
            throw Inconsistent($"capture '{capture}' is {current}, cannot become {role}");
        }

        _captures.Set(capture, role);
    }

    private void ClearCapture(CaptureId capture, CaptureRole role)
    {
        if (_captures.TryGet(capture, out var current))
        {
            if (current != role)
            {
                throw Inconsistent($"capture '{capture}' is {current}, not {role}");
            }

            _captures.Remove(capture);
            UnmarkPrepared(capture);
        }
    }

    private void PromoteSecondary(CaptureId capture)
    {
        if (Primary == capture)
        {
            return;
        }

        if (_captures.TryGet(capture, out var role) && role != CaptureRole.Secondary)
        {
            throw Inconsistent($"capture '{capture}' is {role}, cannot be promoted");
        }

        if (!Primary.IsNone)
        {
            _captures.Remove(Primary);
        }

        _captures.Set(capture, CaptureRole.Primary); // a new role: the prepared mark goes
    }

    private void ClearPrimary()
    {
        if (!Primary.IsNone)
        {
            _captures.Remove(Primary);
        }
    }

    /// <summary>
    /// Secondaries known to have reported Prepared: only consulted when several secondaries exist
    /// after a rebuild, to pick the one to promote (see <c>ChooseSecondaryToPromote</c>). The mark
    /// lives in the role map and goes with the role.
    /// </summary>
    private bool IsPrepared(CaptureId capture) => _captures.IsPrepared(capture);

    private void MarkPrepared(CaptureId capture) => _captures.SetPrepared(capture, prepared: true);

    private void UnmarkPrepared(CaptureId capture) => _captures.SetPrepared(capture, prepared: false);

    private ReplicationSetInconsistentException Inconsistent(string detail) => new($"{detail}; {this}");
}
