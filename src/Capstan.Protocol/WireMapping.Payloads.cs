namespace Capstan.Protocol;

using Core = Capstan.Core.Protocol;

/// <summary>The four payloads and the barrier.</summary>
public static partial class WireMapping
{
    /// <summary>Maps a dispatch request; exactly one of add and remove must be set.</summary>
    public static Wire.DispatchTableRequest ToWire(Core.DispatchTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (request.AddTable, request.RemoveTable) switch
        {
            ({ } add, null) => new Wire.DispatchTableRequest { AddTable = ToWire(add) },
            (null, { } remove) => new Wire.DispatchTableRequest { RemoveTable = ToWire(remove) },
            (null, null) => throw new WireFormatException("neither add_table nor remove_table is set").Within("dispatch_table_request"),
            _ => throw new WireFormatException("both add_table and remove_table are set").Within("dispatch_table_request"),
        };
    }

    /// <summary>Maps a dispatch request back; a request with neither variant set is malformed.</summary>
    public static Core.DispatchTableRequest FromWire(Wire.DispatchTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return request.RequestCase switch
            {
                Wire.DispatchTableRequest.RequestOneofCase.AddTable =>
                    new Core.DispatchTableRequest { AddTable = FromWire(request.AddTable) },
                Wire.DispatchTableRequest.RequestOneofCase.RemoveTable =>
                    new Core.DispatchTableRequest { RemoveTable = FromWire(request.RemoveTable) },
                _ => throw new WireFormatException("neither add_table nor remove_table is set"),
            };
        }
        catch (WireFormatException error)
        {
            throw error.Within("dispatch_table_request");
        }
    }

    /// <summary>Maps a dispatch response; exactly one of add and remove must be set.</summary>
    public static Wire.DispatchTableResponse ToWire(Core.DispatchTableResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return (response.AddTable, response.RemoveTable) switch
        {
            ({ } add, null) => new Wire.DispatchTableResponse
            {
                AddTable = new Wire.AddTableResponse { Status = ToWire(add.Status), Checkpoint = ToWire(add.Status.Checkpoint) },
            },
            (null, { } remove) => new Wire.DispatchTableResponse
            {
                RemoveTable = new Wire.RemoveTableResponse { Status = ToWire(remove.Status), Checkpoint = ToWire(remove.Status.Checkpoint) },
            },
            (null, null) => throw new WireFormatException("neither add_table nor remove_table is set").Within("dispatch_table_response"),
            _ => throw new WireFormatException("both add_table and remove_table are set").Within("dispatch_table_response"),
        };
    }

    /// <summary>Maps a dispatch response back; only the status is read (the checkpoint copy is ignored).</summary>
    public static Core.DispatchTableResponse FromWire(Wire.DispatchTableResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            return response.ResponseCase switch
            {
                Wire.DispatchTableResponse.ResponseOneofCase.AddTable => new Core.DispatchTableResponse
                {
                    AddTable = new Core.AddTableResponse(RequiredStatus(response.AddTable.Status, "add_table")),
                },
                Wire.DispatchTableResponse.ResponseOneofCase.RemoveTable => new Core.DispatchTableResponse
                {
                    RemoveTable = new Core.RemoveTableResponse(RequiredStatus(response.RemoveTable.Status, "remove_table")),
                },
                _ => throw new WireFormatException("neither add_table nor remove_table is set"),
            };
        }
        catch (WireFormatException error)
        {
            throw error.Within("dispatch_table_response");
        }
    }

    /// <summary>Maps a heartbeat; the legacy table_ids are filled from the spans.</summary>
    public static Wire.Heartbeat ToWire(Core.Heartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        try
        {
            var spans = heartbeat.Spans ?? throw new WireFormatException("the span list is null");
            var wire = new Wire.Heartbeat
            {
                IsStopping = heartbeat.IsStopping,
                CollectStats = heartbeat.CollectStats,
                Barrier = heartbeat.Barrier is null ? null : ToWire(heartbeat.Barrier),
            };
            wire.Spans.Capacity = spans.Count;
            wire.TableIds.Capacity = spans.Count;
            for (int index = 0; index < spans.Count; index++)
            {
                wire.Spans.Add(ToWire(spans[index]));
                wire.TableIds.Add(spans[index].TableId.Value);
            }

            return wire;
        }
        catch (WireFormatException error)
        {
            throw error.Within("heartbeat");
        }
    }

    /// <summary>Maps a heartbeat back; with no spans but legacy table ids, whole-table spans are used.</summary>
    public static Core.Heartbeat FromWire(Wire.Heartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        try
        {
            return new Core.Heartbeat
            {
                Spans = heartbeat.Spans.Count > 0 || heartbeat.TableIds.Count == 0
                    ? FromWire(heartbeat.Spans)
                    : WholeTableSpans(heartbeat.TableIds),
                IsStopping = heartbeat.IsStopping,
                CollectStats = heartbeat.CollectStats,
                Barrier = heartbeat.Barrier is null ? null : FromWire(heartbeat.Barrier),
            };
        }
        catch (WireFormatException error)
        {
            throw error.Within("heartbeat");
        }
    }

    /// <summary>Maps a heartbeat response.</summary>
    public static Wire.HeartbeatResponse ToWire(Core.HeartbeatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            var tables = response.Tables ?? throw new WireFormatException("the table list is null");
            var wire = new Wire.HeartbeatResponse { Liveness = ToWire(response.Liveness) };
            wire.Tables.Capacity = tables.Count;
            for (int index = 0; index < tables.Count; index++)
            {
                wire.Tables.Add(ToWire(tables[index], index));
            }

            return wire;
        }
        catch (WireFormatException error)
        {
            throw error.Within("heartbeat_response");
        }
    }

    /// <summary>Maps a heartbeat response back.</summary>
    public static Core.HeartbeatResponse FromWire(Wire.HeartbeatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            var tables = new Core.TableStatus[response.Tables.Count];
            for (int index = 0; index < tables.Length; index++)
            {
                tables[index] = FromWire(response.Tables[index], index);
            }

            return new Core.HeartbeatResponse { Tables = tables, Liveness = FromWire(response.Liveness) };
        }
        catch (WireFormatException error)
        {
            throw error.Within("heartbeat_response");
        }
    }

    /// <summary>Maps a barrier.</summary>
    public static Wire.Barrier ToWire(Core.Barrier barrier)
    {
        ArgumentNullException.ThrowIfNull(barrier);
        var tableBarriers = barrier.TableBarriers
            ?? throw new WireFormatException("the table barrier list is null").Within("barrier");
        var wire = new Wire.Barrier { GlobalBarrierTs = barrier.GlobalBarrierTs.Value };
        wire.TableBarriers.Capacity = tableBarriers.Count;
        for (int index = 0; index < tableBarriers.Count; index++)
        {
            var tableBarrier = tableBarriers[index];
            wire.TableBarriers.Add(new Wire.TableBarrier { TableId = tableBarrier.TableId.Value, BarrierTs = tableBarrier.BarrierTs.Value });
        }

        return wire;
    }

    /// <summary>Maps a barrier back.</summary>
    public static Core.Barrier FromWire(Wire.Barrier barrier)
    {
        ArgumentNullException.ThrowIfNull(barrier);
        var tableBarriers = new Core.TableBarrier[barrier.TableBarriers.Count];
        for (int index = 0; index < tableBarriers.Length; index++)
        {
            var wire = barrier.TableBarriers[index];
            tableBarriers[index] = new Core.TableBarrier(wire.TableId, wire.BarrierTs);
        }

        return new Core.Barrier { TableBarriers = tableBarriers, GlobalBarrierTs = barrier.GlobalBarrierTs };
    }

    private static void SetPayload(Core.Message message, Wire.Message wire)
    {
        switch (message.Type)
        {
            case Core.MessageType.DispatchTableRequest:
                wire.DispatchTableRequest = ToWire(message.DispatchTableRequest!);
                break;
            case Core.MessageType.DispatchTableResponse:
                wire.DispatchTableResponse = ToWire(message.DispatchTableResponse!);
                break;
            case Core.MessageType.Heartbeat:
                wire.Heartbeat = ToWire(message.Heartbeat!);
                break;
            default:
                wire.HeartbeatResponse = ToWire(message.HeartbeatResponse!);
                break;
        }
    }

    private static Core.TableStatus RequiredStatus(Wire.TableStatus? status, string field) =>
        status is null
            ? throw new WireFormatException("the status is missing").Within(field)
            : WithinField(status, field);

    private static Core.TableStatus WithinField(Wire.TableStatus status, string field)
    {
        try
        {
            return FromWire(status);
        }
        catch (WireFormatException error)
        {
            throw error.Within(field + ".status");
        }
    }
}
