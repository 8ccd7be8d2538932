namespace Capstan.Core.Protocol;

/// <summary>
/// State of a span as the agent and its table executor see it.
/// <code>
/// Absent ──add──▶ Preparing ──scan done──▶ Prepared ──commit──▶ Replicating
///                    │                        │                      │
///                    └────────remove──────────┴────────remove────────┴──▶ Stopping ──▶ Stopped ──▶ (Absent)
/// </code>
/// </summary>
public enum TableState
{
    /// <summary>Not set (protocol default); ignored by the coordinator.</summary>
    Unknown = 0,

    /// <summary>The capture does not hold the span.</summary>
    Absent = 1,

    /// <summary>Loading: pulling and sorting (incremental scan), nothing sunk yet.</summary>
    Preparing = 2,

    /// <summary>Loaded and ready to sink.</summary>
    Prepared = 3,

    /// <summary>Sinking to the downstream.</summary>
    Replicating = 4,

    /// <summary>Being stopped.</summary>
    Stopping = 5,

    /// <summary>Stopped; the final checkpoint is known.</summary>
    Stopped = 6,
}

/// <summary>A capture's liveness; moves Alive → Stopping only, never back.</summary>
public enum Liveness
{
    /// <summary>Running normally.</summary>
    Alive = 0,

    /// <summary>Shutting down or being drained: place nothing new here.</summary>
    Stopping = 1,
}

/// <summary>Type tag of a <see cref="Message"/>.</summary>
public enum MessageType
{
    /// <summary>Not set: a programming error when sending.</summary>
    Unknown = 0,

    /// <summary>Coordinator → agent: add or remove a span.</summary>
    DispatchTableRequest = 1,

    /// <summary>Agent → coordinator: progress of a dispatch request.</summary>
    DispatchTableResponse = 2,

    /// <summary>Coordinator → agent: periodic heartbeat.</summary>
    Heartbeat = 3,

    /// <summary>Agent → coordinator: statuses of every span the agent holds.</summary>
    HeartbeatResponse = 4,
}
