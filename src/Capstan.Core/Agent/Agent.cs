namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>What one agent tick hands back to the host besides the messages in the outbox.</summary>
/// <param name="Barrier">
/// The barrier of the last heartbeat accepted this tick, or null when there was none. The host
/// applies it only when it is non-null and its global barrier ts is not 0.
/// </param>
public readonly record struct AgentTickResult(Barrier? Barrier);

/// <summary>
/// The per-changefeed agent that runs on every capture (spec §5): it answers the owner's
/// heartbeats with the status of every span it holds and drives its table executor through the
/// owner's add and remove requests, one task per span.
/// </summary>
/// <remarks>
/// <para>
/// A single-threaded, deterministic object: the host calls <see cref="Tick"/> with the messages
/// received since the last tick and sends what the tick appends to the outbox. One tick:
/// <list type="number">
/// <item>receive: drop malformed messages, messages of a stale or conflicting owner (adopting a newer owner), and messages of another changefeed epoch;</item>
/// <item>handle, in order: a heartbeat is answered at once; a dispatch request with this agent's processor epoch becomes its span's task;</item>
/// <item>poll every tracked span's task (spec §5.7), collecting dispatch responses;</item>
/// <item>send: heartbeat responses first, then dispatch responses, all stamped with this agent's identity and addressed to the current owner.</item>
/// </list>
/// </para>
/// <para>
/// Nothing a peer sends can make it throw: bad input is dropped and counted (<see cref="Counters"/>),
/// and executor exceptions are caught and counted. The changefeed-epoch check is always on: every
/// node of a Capstan cluster is Capstan, so there is no version gating (TiCDC checks it only for
/// owners of version 6.7.0 or later).
/// </para>
/// </remarks>
public sealed class Agent
{
    private readonly LivenessFlag _liveness;
    private readonly AgentCounterSet _counters = new();
    private readonly GuardedExecutor _executor;
    private readonly TableSpanManager _spans;

    /// <summary>Messages that passed the receive step this tick (reused).</summary>
    private readonly List<Message> _received = [];

    /// <summary>Heartbeat responses produced this tick, sent first (reused).</summary>
    private readonly List<HeartbeatResponse> _heartbeatResponses = [];

    /// <summary>Dispatch responses produced this tick, sent after the heartbeat responses (reused).</summary>
    private readonly List<DispatchTableResponse> _dispatchResponses = [];

    /// <summary>Creates an agent; <paramref name="owner"/> is the owner the host knows of, or default for none yet.</summary>
    public Agent(AgentIdentity identity, ITableExecutor executor, LivenessFlag liveness, OwnerInfo owner = default)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(liveness);
        Identity = identity with { Version = identity.Version ?? string.Empty };
        Owner = owner with { Version = owner.Version ?? string.Empty };
        _liveness = liveness;
        _executor = new GuardedExecutor(executor, _counters);
        _spans = new TableSpanManager(_executor);
    }

    /// <summary>This agent's identity, stamped on every message it sends.</summary>
    public AgentIdentity Identity { get; }

    /// <summary>The owner this agent answers to: the one with the highest revision seen so far.</summary>
    public OwnerInfo Owner { get; private set; }

    /// <summary>The capture-wide liveness reported in heartbeat responses.</summary>
    public Liveness Liveness => _liveness.Value;

    /// <summary>Number of spans the agent tracks (added and not yet seen Absent).</summary>
    public int TrackedSpanCount => _spans.Count;

    /// <summary>
    /// Number of kept stops: spans whose remove finished, no longer tracked, whose final checkpoint
    /// the agent keeps reporting until the owner has certainly taken it into account (docs/AGENT.md).
    /// </summary>
    public int KeptStopCount => _spans.StoppedCount;

    /// <summary>Everything dropped, ignored or survived so far.</summary>
    public AgentCounters Counters => _counters.Snapshot();

    /// <summary>The most recent exception thrown by the table executor (counted in <see cref="AgentCounters.ExecutorErrors"/>), for the host to log; null if none.</summary>
    public Exception? LastExecutorError => _executor.LastError;

    /// <summary>
    /// One step (spec §5.3): handles <paramref name="inbox"/> in order, polls the tracked spans, and
    /// appends the messages to send to <paramref name="outbox"/> (heartbeat responses first, then
    /// dispatch responses).
    /// </summary>
    public AgentTickResult Tick(IReadOnlyList<Message> inbox, List<Message> outbox)
    {
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(outbox);
        Receive(inbox);
        Barrier? barrier = HandleReceived();
        _spans.Poll(_dispatchResponses);
        Send(outbox);
        return new AgentTickResult(barrier);
    }

    /// <summary>Checks the agent's invariants (call between ticks); throws with the offending state.</summary>
    public void AssertInvariants() => _spans.AssertInvariants();

    /// <inheritdoc/>
    public override string ToString() =>
        $"agent {Identity.Capture}/{Identity.Changefeed} epoch '{Identity.Epoch}' owner {Owner.Capture}@{Owner.Revision} spans {TrackedSpanCount}";

    /// <summary>Step 1: keeps the messages that are well formed, from the current (or a newer) owner, and of this changefeed epoch.</summary>
    private void Receive(IReadOnlyList<Message> inbox)
    {
        _received.Clear();
        for (int index = 0; index < inbox.Count; index++)
        {
            Message message = inbox[index];
            if (!IsWellFormedRequest(message))
            {
                _counters.MalformedMessagesDropped++;
                continue;
            }

            if (!AcceptOwner(message))
            {
                continue;
            }

            if (message.Header.ChangefeedEpoch != Identity.ChangefeedEpoch)
            {
                _counters.ChangefeedEpochMismatchesDropped++;
                continue;
            }

            _received.Add(message);
        }
    }

    /// <summary>Step 2: handles the received messages in order; returns the last heartbeat's barrier.</summary>
    private Barrier? HandleReceived()
    {
        Barrier? barrier = null;
        foreach (Message message in _received)
        {
            // Again, as in Go: a message accepted before a newer owner appeared later in the same batch is now stale.
            if (!AcceptOwner(message))
            {
                continue;
            }

            if (message.Type == MessageType.Heartbeat)
            {
                Heartbeat heartbeat = message.Heartbeat!;
                _heartbeatResponses.Add(HandleHeartbeat(heartbeat, message.Header.ProcessorEpoch));
                barrier = heartbeat.Barrier;
            }
            else
            {
                HandleDispatch(message.Header.ProcessorEpoch, message.DispatchTableRequest!);
            }
        }

        _received.Clear();
        return barrier;
    }

    /// <summary>
    /// Owner tracking by revision (spec §5.4): the known revision from the known owner is accepted;
    /// a higher revision is a new owner, adopted (tasks and spans are kept, responses now go to it);
    /// a lower one is stale. The known revision from another capture is dropped (Go panics).
    /// </summary>
    private bool AcceptOwner(Message message)
    {
        OwnerRevision revision = message.Header.OwnerRevision;
        if (revision == Owner.Revision)
        {
            if (message.From == Owner.Capture)
            {
                return true;
            }

            _counters.ConflictingOwnerMessagesDropped++;
            return false;
        }

        if (revision > Owner.Revision)
        {
            Owner = new OwnerInfo(message.From, revision, message.Header.Version ?? string.Empty);
            return true;
        }

        _counters.StaleOwnerMessagesDropped++;
        return false;
    }

    /// <summary>
    /// Spec §5.5. Dispatch requests and heartbeats are handled the same whether the capture is
    /// Alive or Stopping. The stopping flag (a drain) is addressed to one incarnation: it is
    /// obeyed when the heartbeat carries this agent's processor epoch or none (the owner does not
    /// know the capture's incarnation yet), not when it carries a predecessor's — a heartbeat sent
    /// to the incarnation being drained must not make its restarted successor stop for good
    /// (found by the simulator, seed 35 of the small profile).
    /// </summary>
    private HeartbeatResponse HandleHeartbeat(Heartbeat heartbeat, ProcessorEpoch epoch)
    {
        IReadOnlyList<TableStatus> statuses = _spans.BuildHeartbeatStatuses(heartbeat.Spans, heartbeat.CollectStats, Owner.Revision);
        if (heartbeat.IsStopping)
        {
            if (epoch.IsNone || epoch == Identity.Epoch)
            {
                _liveness.TrySetStopping();
            }
            else
            {
                _counters.StaleStoppingRequestsIgnored++;
            }
        }

        return new HeartbeatResponse { Tables = statuses, Liveness = _liveness.Value };
    }

    /// <summary>Spec §5.6: a request with this agent's processor epoch becomes its span's task, unless the span has one.</summary>
    private void HandleDispatch(ProcessorEpoch epoch, DispatchTableRequest request)
    {
        if (epoch != Identity.Epoch)
        {
            _counters.WrongProcessorEpochRequestsDropped++;
            return;
        }

        TrackedSpan? tracked;
        DispatchTask task;
        if (request.AddTable is { } add)
        {
            tracked = _spans.GetOrAdd(add.Span);
            task = DispatchTask.Add(add.Checkpoint, isPrepare: add.IsSecondary);
        }
        else if (!_spans.TryGet(request.RemoveTable!.Span, out tracked))
        {
            _spans.ClaimStopped(request.RemoveTable.Span, Owner.Revision);
            _counters.UntrackedRemoveRequestsIgnored++;
            return;
        }
        else
        {
            task = DispatchTask.Remove();
        }

        tracked.Claim(Owner.Revision);

        if (!_spans.TryInject(tracked, task))
        {
            _counters.BusySpanRequestsIgnored++;
        }
    }

    /// <summary>Step 4: stamps and addresses everything produced this tick.</summary>
    private void Send(List<Message> outbox)
    {
        var header = new Header(Identity.Version, Owner.Revision, Identity.Epoch, Identity.ChangefeedEpoch);
        foreach (HeartbeatResponse response in _heartbeatResponses)
        {
            outbox.Add(new Message
            {
                Header = header, Type = MessageType.HeartbeatResponse, From = Identity.Capture, To = Owner.Capture,
                HeartbeatResponse = response,
            });
        }

        foreach (DispatchTableResponse response in _dispatchResponses)
        {
            outbox.Add(new Message
            {
                Header = header, Type = MessageType.DispatchTableResponse, From = Identity.Capture, To = Owner.Capture,
                DispatchTableResponse = response,
            });
        }

        _heartbeatResponses.Clear();
        _dispatchResponses.Clear();
    }

    /// <summary>An agent handles heartbeats and dispatch requests, each with its payload and a sender.</summary>
    private static bool IsWellFormedRequest(Message? message) =>
        message is { Type: MessageType.Heartbeat or MessageType.DispatchTableRequest, IsWellFormed: true }
        && !message.From.IsNone
        && (message.Type != MessageType.Heartbeat || message.Heartbeat!.Spans is not null);
}
