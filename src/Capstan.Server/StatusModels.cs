namespace Capstan.Server;

using Capstan.Core.Agent;

/// <summary>
/// <c>GET /server/status</c>: this capture as it sees itself and the cluster (JSON, camelCase).
/// Timestamps are TSO values (physical ms &lt;&lt; 18).
/// </summary>
public sealed record ServerStatus
{
    /// <summary>This capture.</summary>
    public required string CaptureId { get; init; }

    /// <summary>Binary version.</summary>
    public required string Version { get; init; }

    /// <summary>The cluster store: "etcd http://… prefix /capstan/" or "embedded …".</summary>
    public required string Cluster { get; init; }

    /// <summary>The supervisor's phase (Starting, Joining, Running, Draining, Stopped).</summary>
    public required string Phase { get; init; }

    /// <summary>Advertised gRPC address.</summary>
    public string? GrpcAddress { get; init; }

    /// <summary>Advertised HTTP base URL.</summary>
    public string? HttpUrl { get; init; }

    /// <summary>Incarnations of this process so far (each with a new processor epoch).</summary>
    public int Incarnation { get; init; }

    /// <summary>Incarnations that fenced themselves after losing their session.</summary>
    public int Fencings { get; init; }

    /// <summary>The running incarnation's processor epoch.</summary>
    public string? Epoch { get; init; }

    /// <summary>The running incarnation's state (Running, Stopping, …).</summary>
    public string? State { get; init; }

    /// <summary>Alive or Stopping.</summary>
    public string? Liveness { get; init; }

    /// <summary>The owner revision this capture holds, or null when it is not the owner.</summary>
    public long? OwnerRevision { get; init; }

    /// <summary>The cluster's owner per the election, or null (none, or the store is unreachable).</summary>
    public OwnerView? Owner { get; init; }

    /// <summary>The alive captures per membership.</summary>
    public IReadOnlyList<MemberView> Members { get; init; } = [];

    /// <summary>This capture's agents, one per changefeed.</summary>
    public IReadOnlyList<AgentView> Agents { get; init; } = [];

    /// <summary>This capture's coordinators, one per changefeed, while it is the owner.</summary>
    public IReadOnlyList<CoordinatorView> Coordinators { get; init; } = [];

    /// <summary>The checkpoint writes of this process.</summary>
    public required StatusWriteCounts StatusWrites { get; init; }

    /// <summary>The gRPC transport's counters.</summary>
    public TransportView? Transport { get; init; }

    /// <summary>A problem reading the cluster store for this status, if any.</summary>
    public string? StoreError { get; init; }
}

/// <summary>The owner per the election.</summary>
/// <param name="CaptureId">The owner capture.</param>
/// <param name="Revision">Its owner revision.</param>
public sealed record OwnerView(string CaptureId, long Revision);

/// <summary>An alive capture.</summary>
/// <param name="Id">Capture id.</param>
/// <param name="Address">Advertised gRPC address.</param>
/// <param name="ApiAddress">Advertised HTTP base URL.</param>
/// <param name="Version">Binary version.</param>
public sealed record MemberView(string Id, string Address, string ApiAddress, string Version);

/// <summary>One agent of this capture.</summary>
public sealed record AgentView
{
    /// <summary>The changefeed.</summary>
    public required string Changefeed { get; init; }

    /// <summary>Spans its executor holds (any state).</summary>
    public int Spans { get; init; }

    /// <summary>Spans per table state (Preparing, Prepared, Replicating, Stopping, Stopped).</summary>
    public IReadOnlyDictionary<string, int> ByState { get; init; } = new Dictionary<string, int>();

    /// <summary>The owner the agent answers to.</summary>
    public string? KnownOwner { get; init; }

    /// <summary>That owner's revision; messages with a lower one are dropped.</summary>
    public long KnownOwnerRevision { get; init; }

    /// <summary>Drop and ignore counters (e.g. StaleOwnerMessagesDropped).</summary>
    public AgentCounters Counters { get; init; }
}

/// <summary>One coordinator of this capture (it is the owner).</summary>
public sealed record CoordinatorView
{
    /// <summary>The changefeed.</summary>
    public required string Changefeed { get; init; }

    /// <summary>The owner term it runs in.</summary>
    public long Revision { get; init; }

    /// <summary>True once every capture reported and the sets were rebuilt.</summary>
    public bool Initialized { get; init; }

    /// <summary>Replication sets.</summary>
    public int Sets { get; init; }

    /// <summary>Sets per state (Absent, Prepare, Commit, Replicating, Removing).</summary>
    public IReadOnlyDictionary<string, int> ByState { get; init; } = new Dictionary<string, int>();

    /// <summary>Replicating sets per primary capture.</summary>
    public IReadOnlyDictionary<string, int> Primaries { get; init; } = new Dictionary<string, int>();

    /// <summary>Captures as the coordinator sees them (Uninitialized, Initialized, Stopping…).</summary>
    public IReadOnlyDictionary<string, string> Captures { get; init; } = new Dictionary<string, string>();

    /// <summary>Tasks in flight.</summary>
    public int RunningTasks { get; init; }

    /// <summary>The checkpoint it persisted last.</summary>
    public ulong CheckpointTs { get; init; }

    /// <summary>The resolved ts it persisted last.</summary>
    public ulong ResolvedTs { get; init; }

    /// <summary>Coordinator restarts after a failed tick.</summary>
    public int CoordinatorRestarts { get; init; }

    /// <summary>True once this term was lost (it does nothing more).</summary>
    public bool Deposed { get; init; }
}

/// <summary>A changefeed with its persisted progress.</summary>
public sealed record ChangefeedView
{
    /// <summary>Changefeed id.</summary>
    public required string Id { get; init; }

    /// <summary>How many tables it replicates.</summary>
    public int TableCount { get; init; }

    /// <summary>The tables, compactly (e.g. 1-1000).</summary>
    public string Tables { get; init; } = string.Empty;

    /// <summary>Where it started.</summary>
    public ulong StartTs { get; init; }

    /// <summary>Its changefeed epoch.</summary>
    public ulong Epoch { get; init; }

    /// <summary>The persisted checkpoint (the start ts until the owner wrote one).</summary>
    public ulong CheckpointTs { get; init; }

    /// <summary>The persisted resolved ts.</summary>
    public ulong ResolvedTs { get; init; }

    /// <summary>Upstream time minus the checkpoint's physical time.</summary>
    public long CheckpointLagMilliseconds { get; init; }
}

/// <summary>The gRPC transport's totals (see GrpcTransportCounters for each meaning).</summary>
public sealed record TransportView
{
    /// <summary>Messages written to peers.</summary>
    public long SentMessages { get; init; }

    /// <summary>Messages delivered to this capture's inboxes from peers.</summary>
    public long Received { get; init; }

    /// <summary>Messages delivered to this capture by itself.</summary>
    public long SelfDelivered { get; init; }

    /// <summary>Refused by Send: a peer's buffer was full.</summary>
    public long RefusedSendBufferFull { get; init; }

    /// <summary>Refused by Send: too big for a frame.</summary>
    public long RefusedOversize { get; init; }

    /// <summary>Refused by Send: no address known for the peer.</summary>
    public long RefusedUnknownPeer { get; init; }

    /// <summary>Queued messages lost when a stream broke.</summary>
    public long DroppedOnDisconnect { get; init; }

    /// <summary>Incoming frames rejected as a whole (bad header, unreadable bytes, over the size limit).</summary>
    public long RejectedBadFrames { get; init; }

    /// <summary>Incoming messages rejected as malformed.</summary>
    public long RejectedMalformed { get; init; }

    /// <summary>Incoming messages for no open endpoint.</summary>
    public long RejectedUnknownEndpoint { get; init; }

    /// <summary>Incoming messages refused by a full inbox.</summary>
    public long RejectedInboxFull { get; init; }

    /// <summary>Streams re-established after a break.</summary>
    public long Reconnects { get; init; }
}
