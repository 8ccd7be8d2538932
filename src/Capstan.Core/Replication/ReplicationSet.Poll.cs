namespace Capstan.Core.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>
/// The transitions driven by agents' reports (spec §3.6, §3.7). Each state has one handler; a
/// handler returns true when the state changed, and the same report is then handled again in the
/// new state (the "re-poll").
/// </summary>
/// <remarks>
/// Deliberate departures from TiCDC (spec §13), each covered by a test named after the Go bug:
/// <list type="bullet">
/// <item>Reaching Absent clears every lingering Undetermined role (#12, #36), and an Undetermined
/// capture that reports Stopped or Absent loses its role in Prepare and Replicating too (it has
/// stopped, so it can no longer write), not only in Commit and Removing.</item>
/// <item>An Undetermined capture that reports Stopped or Absent in Prepare or Commit hands over its final
/// checkpoint (<see cref="FoldFinalCheckpoint"/>), so a target committed after an owner fail-over
/// does not re-sink what it had sunk.</item>
/// <item>Several secondaries (only after a rebuild): see <see cref="PromoteAndCommit"/> (#13, #38, #40).
/// A secondary that stops while another secondary remains does not send the set to Absent or
/// Replicating: the remaining secondary carries on.</item>
/// </list>
/// </remarks>
public sealed partial class ReplicationSet
{
    /// <summary>A poll settles in at most three rounds (Commit → Absent → Prepare); more is a bug.</summary>
    private const int MaxPollRounds = 8;

    /// <summary>
    /// Handles one status reported by <paramref name="from"/>; requests to send are appended to
    /// <paramref name="outbox"/>. Reports from captures without a role are ignored. Allocation-free
    /// unless a request is emitted.
    /// </summary>
    /// <exception cref="ReplicationSetMultiplePrimaryException">A capture other than the primary reports Replicating.</exception>
    /// <exception cref="ReplicationSetInconsistentException">The report is for another span, or the set is corrupt.</exception>
    public void Poll(in TableStatus input, CaptureId from, List<Message> outbox)
    {
        if (!_captures.Contains(from))
        {
            return;
        }

        PollLoop(in input, from, outbox);
    }

    /// <summary>
    /// <see cref="Poll"/> for a status whose span the caller has already found equal to
    /// <see cref="Span"/> (a span-map lookup): skips comparing the keys again on every round.
    /// </summary>
    internal void PollMatched(in TableStatus input, CaptureId from, List<Message> outbox)
    {
        if (State == ReplicationSetState.Replicating && input.State == TableState.Replicating && _captures.IsSoleInlinePrimary(from))
        {
            // The steady state, decided as the full poll would: the invariant holds (one primary,
            // it holds the span) and Replicating from the primary only advances the checkpoint.
            UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
            return;
        }

        if (!_captures.Contains(from))
        {
            return;
        }

        PollLoop(in input, from, outbox, spanMatched: true);
    }

    private void PollLoop(in TableStatus input, CaptureId from, List<Message> outbox, bool spanMatched = false)
    {
        for (int round = 0; ; round++)
        {
            if (round == MaxPollRounds)
            {
                throw Inconsistent($"poll of {input.State} from '{from}' did not settle");
            }

            CheckInvariant(in input, spanMatched);
            bool changed = State switch
            {
                ReplicationSetState.Absent => PollOnAbsent(in input, from),
                ReplicationSetState.Prepare => PollOnPrepare(in input, from, outbox),
                ReplicationSetState.Commit => PollOnCommit(in input, from, outbox),
                ReplicationSetState.Replicating => PollOnReplicating(in input, from),
                ReplicationSetState.Removing => PollOnRemoving(in input, from, outbox),
                _ => throw Inconsistent("table state unknown"),
            };
            if (!changed)
            {
                return;
            }
        }
    }

    /// <summary>The checks of spec §3.3, run before every round of a poll.</summary>
    private void CheckInvariant(in TableStatus input, bool spanMatched)
    {
        if (!spanMatched && input.Span != Span)
        {
            throw Inconsistent($"status is for {input.Span}");
        }

        if (_captures.Count == 0 && State is ReplicationSetState.Prepare or ReplicationSetState.Commit or ReplicationSetState.Replicating)
        {
            throw Inconsistent("no capture holds the span in a state that needs one");
        }

        // The primary is the capture holding role Primary; a second one is a second writer.
        var primary = Primary;
        foreach (var (capture, captureRole) in _captures)
        {
            if (captureRole == CaptureRole.Primary && capture != primary)
            {
                throw new ReplicationSetMultiplePrimaryException($"'{capture}' holds role Primary but is not the primary; {this}");
            }
        }
    }

    /// <summary>
    /// A capture found Stopping in a rebuild (role Undetermined) may have sunk the span up to the
    /// checkpoint it reports when it has stopped (Stopped, or Absent with the final checkpoint of
    /// a stop the agent kept; an Absent without one carries zeros, which change nothing); a target
    /// committed later must start there, not at an older value (TiCDC clears the role without
    /// reading the report, so the target re-sinks that stretch). Only the checkpoint is taken: the
    /// stats belong to whoever replicates.
    /// </summary>
    private void FoldFinalCheckpoint(in TableStatus input) => UpdateCheckpointAndStats(input.Checkpoint, stats: null);

    private bool PollOnAbsent(in TableStatus input, CaptureId from)
    {
        if (input.State != TableState.Absent)
        {
            return false; // Stopped: a capture may die at any time; the rest is ignored.
        }

        State = ReplicationSetState.Prepare;
        SetCapture(from, CaptureRole.Secondary);
        return true;
    }

    private bool PollOnPrepare(in TableStatus input, CaptureId from, List<Message> outbox)
    {
        var role = RoleOf(from);
        switch (input.State)
        {
            case TableState.Absent when role == CaptureRole.Secondary:
                // The prepare request may have been lost: send it again.
                outbox.Add(Message.AddTable(from, Span, isSecondary: true, Checkpoint));
                return false;
            case TableState.Prepared when role == CaptureRole.Secondary:
                MarkPrepared(from);
                State = ReplicationSetState.Commit;
                return true;
            case TableState.Replicating when from == Primary:
                UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
                return false;
            case TableState.Stopping or TableState.Stopped when from == Primary:
                // The moving primary stopped early; the secondary is promoted once prepared.
                ClearPrimary();
                return false;
            case TableState.Stopping or TableState.Stopped when role == CaptureRole.Secondary:
                return OnSecondaryStoppedInPrepare(from);
            case TableState.Stopped or TableState.Absent when role == CaptureRole.Undetermined:
                FoldFinalCheckpoint(in input);
                ClearCapture(from, CaptureRole.Undetermined);
                return false;
            default:
                return false;
        }
    }

    private bool OnSecondaryStoppedInPrepare(CaptureId secondary)
    {
        ClearCapture(secondary, CaptureRole.Secondary);
        if (!Secondary.IsNone)
        {
            return false; // another secondary (from a rebuild) is still preparing
        }

        if (!Primary.IsNone)
        {
            State = ReplicationSetState.Replicating;
        }
        else
        {
            EnterAbsent();
        }

        return true;
    }

    private bool PollOnCommit(in TableStatus input, CaptureId from, List<Message> outbox)
    {
        var role = RoleOf(from);
        switch (input.State)
        {
            case TableState.Prepared when role == CaptureRole.Secondary:
                OnSecondaryPreparedInCommit(from, outbox);
                return false;
            case TableState.Prepared when from == Primary:
                if (Secondary.IsNone)
                {
                    // The commit request may have been lost: send it again.
                    outbox.Add(Message.AddTable(from, Span, isSecondary: false, Checkpoint));
                }

                return false;
            case TableState.Stopped or TableState.Absent when from == Primary:
                return OnPrimaryStoppedInCommit(in input, outbox);
            case TableState.Stopped or TableState.Absent when role == CaptureRole.Secondary:
                ClearCapture(from, CaptureRole.Secondary);
                if (Primary.IsNone && Secondary.IsNone)
                {
                    EnterAbsent();
                }

                return true;
            case TableState.Stopped or TableState.Absent when role == CaptureRole.Undetermined:
                FoldFinalCheckpoint(in input);
                ClearCapture(from, CaptureRole.Undetermined);
                return false;
            case TableState.Replicating when from == Primary:
                UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
                if (!Secondary.IsNone)
                {
                    // The old primary has not stopped yet: ask again.
                    outbox.Add(Message.RemoveTable(from, Span));
                    return false;
                }

                // The promoted secondary replicates, or the secondary died and the old primary
                // carries on (whether or not it got the remove request): either way, Replicating.
                State = ReplicationSetState.Replicating;
                return true;
            case TableState.Replicating:
                throw new ReplicationSetMultiplePrimaryException($"'{from}' replicates but '{Primary}' is the primary; {this}");
            case TableState.Stopping when from == Primary && !Secondary.IsNone:
                UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
                return false;
            default:
                return false;
        }
    }

    private void OnSecondaryPreparedInCommit(CaptureId secondary, List<Message> outbox)
    {
        MarkPrepared(secondary);
        if (!Primary.IsNone)
        {
            // The secondary is ready and waits for the old primary to stop.
            outbox.Add(Message.RemoveTable(Primary, Span));
            return;
        }

        if (HasRole(CaptureRole.Undetermined))
        {
            // A capture found Stopping in a rebuild may still write: promoting now could give two writers.
            return;
        }

        PromoteAndCommit(secondary, outbox);
    }

    private bool OnPrimaryStoppedInCommit(in TableStatus input, List<Message> outbox)
    {
        UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
        ClearPrimary();
        if (Secondary.IsNone)
        {
            EnterAbsent();
            return true;
        }

        PromoteAndCommit(ChooseSecondaryToPromote(), outbox);
        return false;
    }

    private bool PollOnReplicating(in TableStatus input, CaptureId from)
    {
        switch (input.State)
        {
            case TableState.Replicating when from == Primary:
                UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
                return false;
            case TableState.Replicating:
                throw new ReplicationSetMultiplePrimaryException($"'{from}' replicates but '{Primary}' is the primary; {this}");
            case TableState.Stopped when from == Primary:
                UpdateCheckpointAndStats(input.Checkpoint, input.Stats);
                ClearPrimary();
                EnterAbsent();
                return true;
            case TableState.Stopped or TableState.Absent when RoleOf(from) == CaptureRole.Undetermined:
                // A capture found Stopping in a rebuild has stopped (TiCDC keeps its role forever).
                ClearCapture(from, CaptureRole.Undetermined);
                return false;
            default:
                // A primary reporting Absent is ignored: only Stopped or its death ends replication.
                return false;
        }
    }

    private bool PollOnRemoving(in TableStatus input, CaptureId from, List<Message> outbox)
    {
        switch (input.State)
        {
            case TableState.Preparing or TableState.Prepared or TableState.Replicating:
                outbox.Add(Message.RemoveTable(from, Span));
                return false;
            case TableState.Absent or TableState.Stopped:
                if (from == Primary)
                {
                    ClearPrimary();
                }
                else
                {
                    _captures.Remove(from);
                    UnmarkPrepared(from);
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Promotes <paramref name="secondary"/> and sends it the commit request (ADD-P).
    /// </summary>
    /// <remarks>
    /// The rule for several secondaries, which only a rebuild can produce (TiCDC bugs §13 #13,
    /// #38, #40): TiCDC promoted an arbitrary one (by map order), sent it no commit request while
    /// another secondary remained, and later answered that other secondary's Prepared report by
    /// removing the span from the freshly promoted primary. Here:
    /// <list type="number">
    /// <item>the secondary to promote is chosen deterministically (<see cref="ChooseSecondaryToPromote"/>:
    /// one that reported Prepared first, then the smallest capture id; when a secondary's own
    /// Prepared report triggers the promotion, it is that secondary);</item>
    /// <item>every other secondary is told to remove the span (RM to it) and loses its role at once,
    /// smallest capture id first, so the set is back to "at most one secondary";</item>
    /// <item>the promoted capture always gets ADD-P.</item>
    /// </list>
    /// A primary is therefore never asked to remove the span because of another secondary.
    /// </remarks>
    private void PromoteAndCommit(CaptureId secondary, List<Message> outbox)
    {
        while (TryFindOtherSecondary(secondary, out var other))
        {
            outbox.Add(Message.RemoveTable(other, Span));
            ClearCapture(other, CaptureRole.Secondary);
        }

        PromoteSecondary(secondary);
        outbox.Add(Message.AddTable(secondary, Span, isSecondary: false, Checkpoint));
    }

    /// <summary>The secondary that reported Prepared with the smallest id, else the smallest secondary.</summary>
    private CaptureId ChooseSecondaryToPromote()
    {
        var best = CaptureId.None;
        bool bestPrepared = false;
        foreach (var (capture, role) in _captures)
        {
            if (role != CaptureRole.Secondary)
            {
                continue;
            }

            bool prepared = IsPrepared(capture);
            if (best.IsNone || (prepared && !bestPrepared) || (prepared == bestPrepared && capture.CompareTo(best) < 0))
            {
                best = capture;
                bestPrepared = prepared;
            }
        }

        return best;
    }

    /// <summary>The secondary other than <paramref name="keep"/> with the smallest id.</summary>
    private bool TryFindOtherSecondary(CaptureId keep, out CaptureId other)
    {
        other = CaptureId.None;
        foreach (var (capture, role) in _captures)
        {
            if (role == CaptureRole.Secondary && capture != keep && (other.IsNone || capture.CompareTo(other) < 0))
            {
                other = capture;
            }
        }

        return !other.IsNone;
    }

    /// <summary>
    /// Moves to Absent. Undetermined roles are dropped (TiCDC bug §13 #12/#36: they lingered and
    /// made a later add on that capture, or its Absent report, fail as inconsistent).
    /// </summary>
    private void EnterAbsent()
    {
        State = ReplicationSetState.Absent;
        while (TryFindRole(CaptureRole.Undetermined, out var capture))
        {
            _captures.Remove(capture);
            UnmarkPrepared(capture);
        }
    }

    private bool HasRole(CaptureRole role) => TryFindRole(role, out _);

    private bool TryFindRole(CaptureRole role, out CaptureId capture)
    {
        foreach (var (id, captureRole) in _captures)
        {
            if (captureRole == role)
            {
                capture = id;
                return true;
            }
        }

        capture = CaptureId.None;
        return false;
    }
}
