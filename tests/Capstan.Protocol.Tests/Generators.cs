namespace Capstan.Protocol.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using CsCheck;

/// <summary>CsCheck generators for every core message shape.</summary>
internal static class Generators
{
    /// <summary>Text with ASCII, accents and CJK (valid UTF-16, so it survives UTF-8).</summary>
    public static readonly Gen<string> Text = Gen.String[Gen.Char["abcxyz0189-._ éü漢字"], 0, 12];

    public static readonly Gen<byte[]> Key = Gen.Byte.Array[0, 24];

    public static readonly Gen<TableId> TableIds = Gen.Frequency(
        (3, Gen.Long[-5, 5_000]),
        (1, Gen.Long))
        .Select(value => new TableId(value));

    public static readonly Gen<Span> Spans = Gen.Frequency(
        (3, Gen.Select(TableIds, Key, Key, (table, start, end) => new Span(table, start, end))),
        (2, TableIds.Select(TableSpans.WholeTable)),
        (1, TableIds.Select(table => new Span(table))));

    public static readonly Gen<Ts> Timestamps = Gen.Frequency(
        (3, Gen.ULong),
        (1, Gen.OneOf(0UL, 1UL, ulong.MaxValue)))
        .Select(value => new Ts(value));

    public static readonly Gen<Checkpoint> Checkpoints =
        Gen.Select(Timestamps, Timestamps, Timestamps, (checkpoint, resolved, synced) => new Checkpoint(checkpoint, resolved, synced));

    public static readonly Gen<string> StageNames = Gen.Frequency(
        (4, Gen.OneOf(Capstan.Core.Protocol.StageNames.All.ToArray())),
        (1, Text));

    public static readonly Gen<IReadOnlyDictionary<string, Checkpoint>> StageMaps =
        Gen.Select(StageNames, Checkpoints).List[0, 7].Select(pairs =>
        {
            var map = new Dictionary<string, Checkpoint>(StringComparer.Ordinal);
            foreach (var (stage, checkpoint) in pairs)
            {
                map[stage] = checkpoint;
            }

            return (IReadOnlyDictionary<string, Checkpoint>)map;
        });

    public static readonly Gen<Stats> Stats = Gen.Select(
        Gen.ULong, Timestamps, Gen.ULong, StageMaps,
        (regions, barrier, writes, stages) => new Stats
        {
            RegionCount = regions,
            BarrierTs = barrier,
            WriteKeysPerSecond = writes,
            StageCheckpoints = stages,
        });

    public static readonly Gen<TableState> States = Gen.Enum<TableState>();

    public static readonly Gen<Liveness> Livenesses = Gen.Enum<Liveness>();

    public static readonly Gen<TableStatus> Statuses = Gen.Select(
        Spans, States, Checkpoints, Gen.Null(Stats, 0.4),
        (span, state, checkpoint, stats) => new TableStatus(span, state, checkpoint, stats));

    public static readonly Gen<Header> Headers = Gen.Select(
        Text, Gen.Long, Text, Gen.ULong,
        (version, revision, epoch, changefeedEpoch) =>
            new Header(version, new OwnerRevision(revision), new ProcessorEpoch(epoch), new ChangefeedEpoch(changefeedEpoch)));

    public static readonly Gen<CaptureId> Captures = Text.Select(text => new CaptureId(text));

    public static readonly Gen<DispatchTableRequest> DispatchRequests = Gen.OneOf(
        Gen.Select(Spans, Gen.Bool, Checkpoints, (span, secondary, checkpoint) =>
            new DispatchTableRequest { AddTable = new AddTableRequest(span, secondary, checkpoint) }),
        Spans.Select(span => new DispatchTableRequest { RemoveTable = new RemoveTableRequest(span) }));

    public static readonly Gen<DispatchTableResponse> DispatchResponses = Gen.OneOf(
        Statuses.Select(status => new DispatchTableResponse { AddTable = new AddTableResponse(status) }),
        Statuses.Select(status => new DispatchTableResponse { RemoveTable = new RemoveTableResponse(status) }));

    public static readonly Gen<Barrier> Barriers = Gen.Select(
        Gen.Select(TableIds, Timestamps, (table, ts) => new TableBarrier(table, ts)).Array[0, 6],
        Timestamps,
        (tables, global) => new Barrier { TableBarriers = tables, GlobalBarrierTs = global });

    public static readonly Gen<Heartbeat> Heartbeats = Gen.Select(
        Spans.Array[0, 20], Gen.Bool, Gen.Bool, Gen.Null(Barriers, 0.3),
        (spans, stopping, collect, barrier) => new Heartbeat
        {
            Spans = spans,
            IsStopping = stopping,
            CollectStats = collect,
            Barrier = barrier,
        });

    public static readonly Gen<HeartbeatResponse> HeartbeatResponses = Gen.Select(
        Statuses.Array[0, 20], Livenesses,
        (tables, liveness) => new HeartbeatResponse { Tables = tables, Liveness = liveness });

    private static readonly Gen<Message> Envelopes = Gen.Select(
        Headers, Captures, Captures,
        (header, from, to) => new Message { Header = header, From = from, To = to });

    public static readonly Gen<Message> Messages = Gen.OneOf(
        Gen.Select(Envelopes, DispatchRequests, (message, payload) =>
            message with { Type = MessageType.DispatchTableRequest, DispatchTableRequest = payload }),
        Gen.Select(Envelopes, DispatchResponses, (message, payload) =>
            message with { Type = MessageType.DispatchTableResponse, DispatchTableResponse = payload }),
        Gen.Select(Envelopes, Heartbeats, (message, payload) =>
            message with { Type = MessageType.Heartbeat, Heartbeat = payload }),
        Gen.Select(Envelopes, HeartbeatResponses, (message, payload) =>
            message with { Type = MessageType.HeartbeatResponse, HeartbeatResponse = payload }));
}
