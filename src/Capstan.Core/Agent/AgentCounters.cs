namespace Capstan.Core.Agent;

/// <summary>
/// What an agent dropped, ignored or survived since it was created (a snapshot; monotonic).
/// Every inbound message the agent does not act on is counted in exactly one of the "dropped" or
/// "ignored" counters.
/// </summary>
public readonly record struct AgentCounters
{
    /// <summary>Messages from an owner with a lower revision than the known one.</summary>
    public long StaleOwnerMessagesDropped { get; init; }

    /// <summary>
    /// Messages claiming the known owner revision from another capture. Go panics here ("owner IDs
    /// do not match"); Capstan drops them, because bad input must never crash a node.
    /// </summary>
    public long ConflictingOwnerMessagesDropped { get; init; }

    /// <summary>Dispatch requests stamped with another processor epoch (meant for an earlier incarnation).</summary>
    public long WrongProcessorEpochRequestsDropped { get; init; }

    /// <summary>Messages stamped with another changefeed epoch (meant for another incarnation of the changefeed).</summary>
    public long ChangefeedEpochMismatchesDropped { get; init; }

    /// <summary>Messages of type Unknown, with a payload that does not match their type, of a type agents do not handle, or with no sender.</summary>
    public long MalformedMessagesDropped { get; init; }

    /// <summary>Dispatch requests for a span that already has an unfinished task (one task per span; the owner resends).</summary>
    public long BusySpanRequestsIgnored { get; init; }

    /// <summary>Remove requests for a span the agent does not track (no response, as in Go).</summary>
    public long UntrackedRemoveRequestsIgnored { get; init; }

    /// <summary>Heartbeats asking to stop (a drain) stamped with a predecessor's processor epoch: answered, the flag not obeyed.</summary>
    public long StaleStoppingRequestsIgnored { get; init; }

    /// <summary>
    /// Exceptions thrown by the table executor and contract violations it committed (an Unknown or
    /// out-of-range state, a state that never settles). Go loses add errors (spec §13 #3).
    /// </summary>
    public long ExecutorErrors { get; init; }
}

/// <summary>The agent's mutable counters, shared with its parts; <see cref="Snapshot"/> gives the public view.</summary>
internal sealed class AgentCounterSet
{
    public long StaleOwnerMessagesDropped;
    public long ConflictingOwnerMessagesDropped;
    public long WrongProcessorEpochRequestsDropped;
    public long ChangefeedEpochMismatchesDropped;
    public long MalformedMessagesDropped;
    public long BusySpanRequestsIgnored;
    public long UntrackedRemoveRequestsIgnored;
    public long StaleStoppingRequestsIgnored;
    public long ExecutorErrors;

    public AgentCounters Snapshot() => new()
    {
        StaleOwnerMessagesDropped = StaleOwnerMessagesDropped,
        ConflictingOwnerMessagesDropped = ConflictingOwnerMessagesDropped,
        WrongProcessorEpochRequestsDropped = WrongProcessorEpochRequestsDropped,
        ChangefeedEpochMismatchesDropped = ChangefeedEpochMismatchesDropped,
        MalformedMessagesDropped = MalformedMessagesDropped,
        BusySpanRequestsIgnored = BusySpanRequestsIgnored,
        UntrackedRemoveRequestsIgnored = UntrackedRemoveRequestsIgnored,
        StaleStoppingRequestsIgnored = StaleStoppingRequestsIgnored,
        ExecutorErrors = ExecutorErrors,
    };
}
