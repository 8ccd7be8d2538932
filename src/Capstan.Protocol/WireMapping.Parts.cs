namespace Capstan.Protocol;

using System.Runtime.InteropServices;
using Capstan.Core.Model;
using Capstan.Core.Spans;
using Google.Protobuf;
using Core = Capstan.Core.Protocol;

/// <summary>Header, spans, checkpoints, stats, statuses and requests.</summary>
public static partial class WireMapping
{
    /// <summary>Maps a header; null strings become "".</summary>
    public static Wire.Header ToWire(Core.Header header) => new()
    {
        Version = header.Version ?? string.Empty,
        OwnerRevision = new Wire.OwnerRevision { Revision = header.OwnerRevision.Value },
        ProcessorEpoch = new Wire.ProcessorEpoch { Epoch = header.ProcessorEpoch.Value ?? string.Empty },
        ChangefeedEpoch = new Wire.ChangefeedEpoch { Epoch = header.ChangefeedEpoch.Value },
    };

    /// <summary>Maps a header back; a missing identity reads as zero or "".</summary>
    public static Core.Header FromWire(Wire.Header header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return new Core.Header(
            header.Version,
            new OwnerRevision(header.OwnerRevision?.Revision ?? 0),
            new ProcessorEpoch(header.ProcessorEpoch?.Epoch ?? string.Empty),
            new ChangefeedEpoch(header.ChangefeedEpoch?.Epoch ?? 0));
    }

    /// <summary>Maps a span; empty keys become empty bytes. The key arrays are wrapped, not copied.</summary>
    public static Wire.Span ToWire(Span span) => new()
    {
        TableId = span.TableId.Value,
        StartKey = WrapKey(span.StartKeyMemory),
        EndKey = WrapKey(span.EndKeyMemory),
    };

    /// <summary>Maps a span back; empty bytes become "no key".</summary>
    public static Span FromWire(Wire.Span span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return new Span(span.TableId, span.StartKey.Span, span.EndKey.Span);
    }

    /// <summary>Maps a checkpoint.</summary>
    public static Wire.Checkpoint ToWire(Core.Checkpoint checkpoint) => new()
    {
        CheckpointTs = checkpoint.CheckpointTs.Value,
        ResolvedTs = checkpoint.ResolvedTs.Value,
        LastSyncedTs = checkpoint.LastSyncedTs.Value,
    };

    /// <summary>Maps a checkpoint back; a missing checkpoint is all zeros.</summary>
    public static Core.Checkpoint FromWire(Wire.Checkpoint? checkpoint) =>
        checkpoint is null ? default : new Core.Checkpoint(checkpoint.CheckpointTs, checkpoint.ResolvedTs, checkpoint.LastSyncedTs);

    /// <summary>Maps stats, including Capstan's write_keys_per_second; current_ts is never written.</summary>
    public static Wire.Stats ToWire(Core.Stats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var stages = stats.StageCheckpoints ?? throw new WireFormatException("the stage checkpoint map is null").Within("stats");
        var wire = new Wire.Stats
        {
            RegionCount = stats.RegionCount,
            BarrierTs = stats.BarrierTs.Value,
            WriteKeysPerSecond = stats.WriteKeysPerSecond,
        };
        foreach (var (stage, checkpoint) in stages)
        {
            wire.StageCheckpoints.Add(stage, ToWire(checkpoint));
        }

        return wire;
    }

    /// <summary>Maps stats back; current_ts is ignored.</summary>
    public static Core.Stats FromWire(Wire.Stats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var result = new Core.Stats
        {
            RegionCount = stats.RegionCount,
            BarrierTs = stats.BarrierTs,
            WriteKeysPerSecond = stats.WriteKeysPerSecond,
        };
        if (stats.StageCheckpoints.Count == 0)
        {
            return result;
        }

        var stages = new Dictionary<string, Core.Checkpoint>(stats.StageCheckpoints.Count, StringComparer.Ordinal);
        foreach (var (stage, checkpoint) in stats.StageCheckpoints)
        {
            stages[stage] = FromWire(checkpoint);
        }

        return result with { StageCheckpoints = stages };
    }

    /// <summary>Maps a span status; the legacy table_id is filled from the span.</summary>
    public static Wire.TableStatus ToWire(Core.TableStatus status) => new()
    {
        TableId = status.Span.TableId.Value,
        Span = ToWire(status.Span),
        State = ToWire(status.State),
        Checkpoint = ToWire(status.Checkpoint),
        Stats = status.Stats is null ? null : ToWire(status.Stats),
    };

    /// <summary>Maps a span status back. Throws <see cref="WireFormatException"/> for an unknown state or a missing span.</summary>
    public static Core.TableStatus FromWire(Wire.TableStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new Core.TableStatus(
            SpanOrLegacy(status.Span, status.TableId),
            FromWire(status.State),
            FromWire(status.Checkpoint),
            status.Stats is null ? null : FromWire(status.Stats));
    }

    /// <summary>Maps an add request; the legacy table_id is filled from the span.</summary>
    public static Wire.AddTableRequest ToWire(Core.AddTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Wire.AddTableRequest
        {
            TableId = request.Span.TableId.Value,
            Span = ToWire(request.Span),
            IsSecondary = request.IsSecondary,
            Checkpoint = ToWire(request.Checkpoint),
        };
    }

    /// <summary>Maps an add request back.</summary>
    public static Core.AddTableRequest FromWire(Wire.AddTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return new Core.AddTableRequest(SpanOrLegacy(request.Span, request.TableId), request.IsSecondary, FromWire(request.Checkpoint));
        }
        catch (WireFormatException error)
        {
            throw error.Within("add_table");
        }
    }

    /// <summary>Maps a remove request; the legacy table_id is filled from the span.</summary>
    public static Wire.RemoveTableRequest ToWire(Core.RemoveTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Wire.RemoveTableRequest { TableId = request.Span.TableId.Value, Span = ToWire(request.Span) };
    }

    /// <summary>Maps a remove request back.</summary>
    public static Core.RemoveTableRequest FromWire(Wire.RemoveTableRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return new Core.RemoveTableRequest(SpanOrLegacy(request.Span, request.TableId));
        }
        catch (WireFormatException error)
        {
            throw error.Within("remove_table");
        }
    }

    private static Wire.TableStatus ToWire(Core.TableStatus status, int index)
    {
        try
        {
            return ToWire(status);
        }
        catch (WireFormatException error)
        {
            throw error.Within($"tables[{index}]");
        }
    }

    private static Core.TableStatus FromWire(Wire.TableStatus status, int index)
    {
        try
        {
            return FromWire(status);
        }
        catch (WireFormatException error)
        {
            throw error.Within($"tables[{index}]");
        }
    }

    private static Span[] FromWire(IReadOnlyList<Wire.Span> spans)
    {
        if (spans.Count == 0)
        {
            return [];
        }

        var result = new Span[spans.Count];
        for (int index = 0; index < result.Length; index++)
        {
            result[index] = FromWire(spans[index]);
        }

        return result;
    }

    private static Span[] WholeTableSpans(IReadOnlyList<long> tableIds)
    {
        var result = new Span[tableIds.Count];
        for (int index = 0; index < result.Length; index++)
        {
            result[index] = TableSpans.WholeTable(tableIds[index]);
        }

        return result;
    }

    /// <summary>The span; when absent, the whole-table span of the legacy table id (TiCDC before span replication).</summary>
    private static Span SpanOrLegacy(Wire.Span? span, long legacyTableId)
    {
        if (span is not null)
        {
            return FromWire(span);
        }

        return legacyTableId != 0
            ? TableSpans.WholeTable(legacyTableId)
            : throw new WireFormatException("the span is missing and no legacy table_id is set").Within("span");
    }

    /// <summary>Wraps a span's key without a copy (a span never writes its keys).</summary>
    private static ByteString WrapKey(ReadOnlyMemory<byte> key) =>
        key.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(key);
}
