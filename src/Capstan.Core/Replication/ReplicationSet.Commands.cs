namespace Capstan.Core.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>Commands from the replication manager (spec §3.8) and the invariant check.</summary>
public sealed partial class ReplicationSet
{
    /// <summary>
    /// Starts preparing the span on <paramref name="capture"/> (ADD-S carrying the set's
    /// checkpoint). Ignored unless the set is Absent.
    /// </summary>
    public void HandleAddTable(CaptureId capture, List<Message> outbox)
    {
        RequireCapture(capture, nameof(capture));
        if (State != ReplicationSetState.Absent)
        {
            return;
        }

        SetCapture(capture, CaptureRole.Secondary);
        PollLoop(new TableStatus(Span, TableState.Absent, default), capture, outbox);
    }

    /// <summary>
    /// Starts moving a replicating span to <paramref name="destination"/> (ADD-S to it; the
    /// primary keeps replicating until the destination is prepared). Ignored when the set is
    /// removed, not Replicating, or the destination is already the primary.
    /// </summary>
    /// <exception cref="ReplicationSetInconsistentException">
    /// The destination holds another role (Undetermined). Checked before anything changes, so the
    /// set is left as it was (TiCDC bug §13 #35 switched to Prepare first).
    /// </exception>
    public void HandleMoveTable(CaptureId destination, List<Message> outbox)
    {
        RequireCapture(destination, nameof(destination));
        if (HasRemoved || State != ReplicationSetState.Replicating || destination == Primary)
        {
            return;
        }

        if (_captures.TryGet(destination, out var role) && role != CaptureRole.Secondary)
        {
            throw Inconsistent($"cannot move to '{destination}', it is {role}");
        }

        State = ReplicationSetState.Prepare;
        SetCapture(destination, CaptureRole.Secondary);
        PollLoop(new TableStatus(Span, TableState.Absent, default), destination, outbox);
    }

    /// <summary>
    /// Starts removing a replicating span (RM to the primary). Ignored when already removed or
    /// not Replicating.
    /// </summary>
    public void HandleRemoveTable(List<Message> outbox)
    {
        if (HasRemoved || State != ReplicationSetState.Replicating)
        {
            return;
        }

        State = ReplicationSetState.Removing;
        var own = new Checkpoint(Checkpoint.CheckpointTs, Checkpoint.ResolvedTs, Ts.Zero);
        PollLoop(new TableStatus(Span, TableState.Replicating, own), Primary, outbox);
    }

    /// <summary>
    /// Treats <paramref name="capture"/> as having stopped the span (it died). Returns true when
    /// the capture held a role, i.e. the set was affected.
    /// </summary>
    public bool HandleCaptureShutdown(CaptureId capture, List<Message> outbox)
    {
        if (!_captures.Contains(capture))
        {
            return false;
        }

        PollLoop(new TableStatus(Span, TableState.Stopped, default), capture, outbox);
        return true;
    }

    /// <summary>
    /// Checks the set's invariants; throws <see cref="InvalidOperationException"/> with the full
    /// state when one is broken (a bug, never an expected condition):
    /// the primary holds role Primary and nobody else does; Absent has no captures; Prepare has a
    /// secondary; Commit has a primary or a secondary; Replicating has a primary and no secondary;
    /// only secondaries are remembered as prepared. (That the checkpoint never regresses is
    /// checked on every update.)
    /// </summary>
    public void AssertInvariants()
    {
        string? broken = FindBrokenInvariant();
        if (broken is not null)
        {
            throw new InvalidOperationException($"replication set invariant broken: {broken}; {this}");
        }
    }

    private string? FindBrokenInvariant()
    {
        int secondaries = 0;
        var primary = Primary;
        foreach (var (capture, role) in _captures)
        {
            if (role == CaptureRole.Primary && capture != primary)
            {
                return $"'{capture}' holds role Primary but is not the primary";
            }

            if (role != CaptureRole.Secondary && IsPrepared(capture))
            {
                return $"'{capture}' is remembered as prepared but is not a secondary";
            }

            secondaries += role == CaptureRole.Secondary ? 1 : 0;
        }

        return State switch
        {
            ReplicationSetState.Absent when _captures.Count != 0 => "Absent but captures hold roles",
            ReplicationSetState.Prepare when secondaries == 0 => "Prepare without a secondary",
            ReplicationSetState.Commit when secondaries == 0 && Primary.IsNone => "Commit without primary or secondary",
            ReplicationSetState.Replicating when Primary.IsNone => "Replicating without a primary",
            ReplicationSetState.Replicating when secondaries != 0 => "Replicating with a secondary",
            ReplicationSetState.Unknown => "state Unknown",
            _ => null,
        };
    }

    private static void RequireCapture(CaptureId capture, string name)
    {
        if (capture.IsNone)
        {
            throw new ArgumentException("a capture id is required", name);
        }
    }
}
