namespace Capstan.Core.Protocol;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>Status of one span on one capture, as reported by its agent.</summary>
/// <param name="Span">The span.</param>
/// <param name="State">The agent-side state.</param>
/// <param name="Checkpoint">The span's progress on that capture.</param>
/// <param name="Stats">Statistics, or null when not collected ("empty").</param>
public readonly record struct TableStatus(Span Span, TableState State, Checkpoint Checkpoint, Stats? Stats = null);

/// <summary>Header carried by every message.</summary>
/// <param name="Version">Semantic version of the sender's binary.</param>
/// <param name="OwnerRevision">The owner term this message belongs to.</param>
/// <param name="ProcessorEpoch">The agent incarnation (set by agents; stamped by the coordinator from its capture manager).</param>
/// <param name="ChangefeedEpoch">The changefeed incarnation.</param>
public readonly record struct Header(string Version, OwnerRevision OwnerRevision, ProcessorEpoch ProcessorEpoch, ChangefeedEpoch ChangefeedEpoch);

/// <summary>Coordinator → agent: prepare (IsSecondary) or start replicating a span from a checkpoint.</summary>
public sealed record AddTableRequest(Span Span, bool IsSecondary, Checkpoint Checkpoint);

/// <summary>Coordinator → agent: stop and release a span.</summary>
public sealed record RemoveTableRequest(Span Span);

/// <summary>Coordinator → agent: exactly one of add or remove.</summary>
public sealed record DispatchTableRequest
{
    /// <summary>The add variant.</summary>
    public AddTableRequest? AddTable { get; init; }

    /// <summary>The remove variant.</summary>
    public RemoveTableRequest? RemoveTable { get; init; }
}

/// <summary>Agent → coordinator: progress of an add.</summary>
public sealed record AddTableResponse(TableStatus Status);

/// <summary>Agent → coordinator: progress of a remove; a Stopped status carries the final checkpoint.</summary>
public sealed record RemoveTableResponse(TableStatus Status);

/// <summary>Agent → coordinator: exactly one of add or remove.</summary>
public sealed record DispatchTableResponse
{
    /// <summary>The add variant.</summary>
    public AddTableResponse? AddTable { get; init; }

    /// <summary>The remove variant.</summary>
    public RemoveTableResponse? RemoveTable { get; init; }
}

/// <summary>A per-table barrier: the table's sink must not pass BarrierTs (e.g. a DDL).</summary>
public readonly record struct TableBarrier(TableId TableId, Ts BarrierTs);

/// <summary>Barriers the coordinator forwards to agents with every heartbeat.</summary>
public sealed record Barrier
{
    /// <summary>An empty barrier.</summary>
    public static readonly Barrier None = new();

    /// <summary>Per-table barriers.</summary>
    public IReadOnlyList<TableBarrier> TableBarriers { get; init; } = [];

    /// <summary>No span may sink past this ts.</summary>
    public Ts GlobalBarrierTs { get; init; }

    /// <summary>Value equality including the list.</summary>
    public bool Equals(Barrier? other) =>
        other is not null && GlobalBarrierTs == other.GlobalBarrierTs && TableBarriers.SequenceEqual(other.TableBarriers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(GlobalBarrierTs, TableBarriers.Count);
}

/// <summary>Coordinator → agent: periodic heartbeat.</summary>
public sealed record Heartbeat
{
    /// <summary>An empty heartbeat (sent to a newly seen capture).</summary>
    public static readonly Heartbeat Empty = new();

    /// <summary>Spans the coordinator believes this capture holds (any role); untracked ones are reported Absent.</summary>
    public IReadOnlyList<Span> Spans { get; init; } = [];

    /// <summary>The capture is being drained: its liveness must become Stopping.</summary>
    public bool IsStopping { get; init; }

    /// <summary>Report <see cref="Stats"/> with this response.</summary>
    public bool CollectStats { get; init; }

    /// <summary>Current barrier, or null.</summary>
    public Barrier? Barrier { get; init; }

    /// <summary>Value equality including the span list.</summary>
    public bool Equals(Heartbeat? other) =>
        other is not null && IsStopping == other.IsStopping && CollectStats == other.CollectStats
        && Equals(Barrier, other.Barrier) && Spans.SequenceEqual(other.Spans);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(IsStopping, CollectStats, Spans.Count);
}

/// <summary>Agent → coordinator: status of every tracked span and of every listed but untracked span.</summary>
public sealed record HeartbeatResponse
{
    /// <summary>Statuses in span order.</summary>
    public IReadOnlyList<TableStatus> Tables { get; init; } = [];

    /// <summary>The capture's liveness.</summary>
    public Liveness Liveness { get; init; }

    /// <summary>Value equality including the status list.</summary>
    public bool Equals(HeartbeatResponse? other) =>
        other is not null && Liveness == other.Liveness && Tables.SequenceEqual(other.Tables);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Liveness, Tables.Count);
}

/// <summary>One scheduler message between a coordinator and an agent.</summary>
public sealed record Message
{
    /// <summary>Identity and term of the sender.</summary>
    public Header Header { get; init; }

    /// <summary>Which payload is set.</summary>
    public MessageType Type { get; init; }

    /// <summary>Sending capture.</summary>
    public CaptureId From { get; init; }

    /// <summary>Receiving capture.</summary>
    public CaptureId To { get; init; }

    /// <summary>Set when Type is DispatchTableRequest.</summary>
    public DispatchTableRequest? DispatchTableRequest { get; init; }

    /// <summary>Set when Type is DispatchTableResponse.</summary>
    public DispatchTableResponse? DispatchTableResponse { get; init; }

    /// <summary>Set when Type is Heartbeat.</summary>
    public Heartbeat? Heartbeat { get; init; }

    /// <summary>Set when Type is HeartbeatResponse.</summary>
    public HeartbeatResponse? HeartbeatResponse { get; init; }

    /// <summary>A prepare (IsSecondary) or commit request.</summary>
    public static Message AddTable(CaptureId to, Span span, bool isSecondary, Checkpoint checkpoint) => new()
    {
        Type = MessageType.DispatchTableRequest,
        To = to,
        DispatchTableRequest = new DispatchTableRequest { AddTable = new AddTableRequest(span, isSecondary, checkpoint) },
    };

    /// <summary>A remove request.</summary>
    public static Message RemoveTable(CaptureId to, Span span) => new()
    {
        Type = MessageType.DispatchTableRequest,
        To = to,
        DispatchTableRequest = new DispatchTableRequest { RemoveTable = new RemoveTableRequest(span) },
    };

    /// <summary>True when the payload matching <see cref="Type"/> is present (and only that one).</summary>
    public bool IsWellFormed => Type switch
    {
        MessageType.DispatchTableRequest => DispatchTableRequest is { } r && (r.AddTable is null) != (r.RemoveTable is null)
            && DispatchTableResponse is null && Heartbeat is null && HeartbeatResponse is null,
        MessageType.DispatchTableResponse => DispatchTableResponse is { } r && (r.AddTable is null) != (r.RemoveTable is null)
            && DispatchTableRequest is null && Heartbeat is null && HeartbeatResponse is null,
        MessageType.Heartbeat => Heartbeat is not null
            && DispatchTableRequest is null && DispatchTableResponse is null && HeartbeatResponse is null,
        MessageType.HeartbeatResponse => HeartbeatResponse is not null
            && DispatchTableRequest is null && DispatchTableResponse is null && Heartbeat is null,
        _ => false,
    };
}
