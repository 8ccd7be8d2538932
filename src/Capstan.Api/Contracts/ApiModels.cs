namespace Capstan.Api.Contracts;

// The JSON contract of /api/v2 (snake_case on the wire, see CapstanJson). Shared by the server,
// the `capstan cli` client and the tests. Shapes follow TiCDC's v2 API where it has one.

/// <summary>A capture (one Capstan process) as listed by <c>GET /api/v2/captures</c>.</summary>
/// <param name="Id">Capture id.</param>
/// <param name="Address">Its advertised address.</param>
/// <param name="IsOwner">True for the owner.</param>
/// <param name="Liveness">"alive" or "stopping".</param>
/// <param name="State">The coordinator's view: "uninitialized", "initialized", "stopping", or "unknown".</param>
/// <param name="TableCount">Tables (spans) whose primary is this capture, over every changefeed.</param>
/// <param name="Version">Its binary's version.</param>
public sealed record CaptureDto(string Id, string Address, bool IsOwner, string Liveness, string State, int TableCount, string Version);

/// <summary>The owner (<c>GET /api/v2/owner</c>).</summary>
/// <param name="Id">Owner capture id.</param>
/// <param name="Address">Its advertised address.</param>
/// <param name="Revision">The owner term (increases with every election).</param>
public sealed record OwnerDto(string Id, string Address, long Revision);

/// <summary>Health of the capture serving the request (<c>GET /api/v2/health</c>, <c>/api/v2/status</c>).</summary>
/// <param name="Status">"ok", or "degraded" when no owner is known.</param>
/// <param name="CaptureId">The capture serving the request ("" for a cluster-wide endpoint such as the demo's).</param>
/// <param name="IsOwner">True when the serving capture is the owner.</param>
/// <param name="OwnerId">The owner's id, or "".</param>
/// <param name="Version">Binary version.</param>
/// <param name="AliveCaptures">Captures membership lists as alive.</param>
/// <param name="Changefeeds">Changefeeds defined.</param>
public sealed record HealthDto(string Status, string CaptureId, bool IsOwner, string OwnerId, string Version, int AliveCaptures, int Changefeeds);

/// <summary>Body of <c>POST /api/v2/changefeeds</c>.</summary>
/// <param name="ChangefeedId">New changefeed's id.</param>
/// <param name="TableIds">Tables to replicate (positive, distinct).</param>
public sealed record CreateChangefeedRequest(string? ChangefeedId, long[]? TableIds);

/// <summary>Body of the add/drop tables endpoints.</summary>
/// <param name="TableIds">Tables to add or drop (positive).</param>
public sealed record TablesRequest(long[]? TableIds);

/// <summary>A changefeed summary (list) or detail (query).</summary>
/// <param name="Id">Changefeed id.</param>
/// <param name="State">"normal" while it has a scheduler on the owner, "pending" before.</param>
/// <param name="TableCount">Tables it replicates.</param>
/// <param name="CheckpointTs">Persisted checkpoint (TSO).</param>
/// <param name="ResolvedTs">Persisted resolved ts (TSO).</param>
/// <param name="CheckpointTime">The checkpoint's physical time, ISO 8601 UTC.</param>
/// <param name="LagMs">Upstream now minus the checkpoint's physical time, in milliseconds.</param>
/// <param name="TableIds">Its tables (detail only; null in lists).</param>
public sealed record ChangefeedDto(
    string Id, string State, int TableCount, ulong CheckpointTs, ulong ResolvedTs, string CheckpointTime, long LagMs, long[]? TableIds);

/// <summary>A span (key range) of a table; keys hex-encoded, "" for a whole-table bound.</summary>
/// <param name="TableId">The table.</param>
/// <param name="StartKey">Start key (hex).</param>
/// <param name="EndKey">End key (hex).</param>
public sealed record SpanDto(long TableId, string StartKey, string EndKey);

/// <summary>One replication set (<c>GET /api/v2/changefeeds/{id}/tables</c>).</summary>
/// <param name="TableId">The table.</param>
/// <param name="Span">Its span.</param>
/// <param name="State">Replication-set state: Absent, Prepare, Commit, Replicating, Removing.</param>
/// <param name="Primary">Capture replicating it, or "".</param>
/// <param name="Secondary">Capture preparing it (during a move), or "".</param>
/// <param name="CheckpointTs">Its checkpoint.</param>
/// <param name="ResolvedTs">Its resolved ts.</param>
/// <param name="Task">Kind of the task in flight on it (addTable, moveTable, removeTable), or null.</param>
/// <param name="WholeTable">True when the span is the whole table; false for one span of a split table.</param>
/// <param name="WriteKeysPerSecond">The span's load (write rate) from the last collected stats, or null before any; load-aware balance weighs spans by it.</param>
public sealed record TableDto(
    long TableId, SpanDto Span, string State, string Primary, string Secondary, ulong CheckpointTs, ulong ResolvedTs, string? Task,
    bool WholeTable, ulong? WriteKeysPerSecond);

/// <summary>Body of <c>POST /api/v2/changefeeds/{id}/tables/move_table</c> (TiCDC's v1 shape).</summary>
/// <param name="CaptureId">Target capture.</param>
/// <param name="TableId">Table to move.</param>
public sealed record MoveTableRequest(string? CaptureId, long? TableId);

/// <summary>An accepted command (move, rebalance, add/drop tables, resign).</summary>
/// <param name="Accepted">Always true (refusals are 400 problem details).</param>
/// <param name="Message">What will happen, e.g. "moving table 5 from 'a' to 'b'".</param>
public sealed record CommandResultDto(bool Accepted, string Message);

/// <summary>One move of a rebalance plan.</summary>
/// <param name="TableId">The table.</param>
/// <param name="Span">Its span.</param>
/// <param name="From">Current primary.</param>
/// <param name="To">Destination.</param>
public sealed record PlannedMoveDto(long TableId, SpanDto Span, string From, string To);

/// <summary>What a rebalance would do now (<c>GET /api/v2/changefeeds/{id}/rebalance_plan</c>); nothing is changed.</summary>
/// <param name="Changefeed">The changefeed.</param>
/// <param name="Moves">Moves a rebalance would start.</param>
/// <param name="TablesPerCapture">Replicating tables per capture now.</param>
public sealed record RebalancePlanDto(string Changefeed, IReadOnlyList<PlannedMoveDto> Moves, IReadOnlyDictionary<string, int> TablesPerCapture);

/// <summary>Response of <c>POST /api/v2/captures/{id}/drain</c> (TiCDC's shape plus a status).</summary>
/// <param name="CurrentTableCount">Tables still on the capture over every changefeed; re-issue the drain until it is 0.</param>
/// <param name="Status">"draining" or "done".</param>
/// <param name="Message">Details.</param>
public sealed record DrainResponseDto(int CurrentTableCount, string Status, string Message);

/// <summary>One accepted scheduling task, from the coordinator's history.</summary>
/// <param name="Tick">Coordinator tick it was accepted at.</param>
/// <param name="Time">Approximate wall time (ISO 8601 UTC), from the tick and the owner tick interval.</param>
/// <param name="Scheduler">The scheduler that produced it (basic-scheduler, balance-scheduler, move-table-scheduler, rebalance-scheduler, drain-capture-scheduler).</param>
/// <param name="Kind">addTable, moveTable or removeTable.</param>
/// <param name="Capture">Destination (add, move) or source (remove).</param>
public sealed record PlacementDto(long Tick, string Time, string Scheduler, string Kind, string Capture);

/// <summary>Why a table is where it is (<c>GET /api/v2/changefeeds/{id}/tables/{table_id}/explain</c>).</summary>
/// <param name="Changefeed">The changefeed.</param>
/// <param name="TableId">The table.</param>
/// <param name="Current">Its replication set now, or null when the table has none.</param>
/// <param name="PlacedBy">The task that put it on its current primary, or null when unknown (e.g. placed before this owner's term: a rebuilt set).</param>
/// <param name="Summary">One sentence answering "why is this table here".</param>
/// <param name="History">Its accepted tasks, oldest first (bounded).</param>
/// <param name="Transitions">State transitions observed by the owner's activity monitor, oldest first (bounded).</param>
public sealed record ExplainDto(
    string Changefeed, long TableId, TableDto? Current, PlacementDto? PlacedBy, string Summary,
    IReadOnlyList<PlacementDto> History, IReadOnlyList<EventDto> Transitions);

/// <summary>One event of the scheduling timeline (<c>GET /api/v2/events</c>).</summary>
/// <param name="Sequence">Increasing number; pass the last one seen as <c>since</c>.</param>
/// <param name="Time">Wall time it was observed, ISO 8601 UTC.</param>
/// <param name="Kind">task, phase, owner, capture, drain, changefeed.</param>
/// <param name="Changefeed">Changefeed, or "".</param>
/// <param name="TableId">Table, or 0.</param>
/// <param name="Capture">Capture concerned, or "".</param>
/// <param name="Message">A readable sentence.</param>
public sealed record EventDto(long Sequence, string Time, string Kind, string Changefeed, long TableId, string Capture, string Message);

/// <summary>A page of timeline events.</summary>
/// <param name="Events">Events after <c>since</c>, oldest first.</param>
/// <param name="Last">Sequence of the newest event (pass as <c>since</c> next time).</param>
public sealed record EventsDto(IReadOnlyList<EventDto> Events, long Last);
