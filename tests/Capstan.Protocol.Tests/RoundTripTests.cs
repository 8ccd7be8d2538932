namespace Capstan.Protocol.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Google.Protobuf;
using Wire = Capstan.Protocol.Wire;

public class RoundTripTests
{
    /// <summary>core → wire → bytes → wire → core.</summary>
    private static Message ThroughBytes(Message message)
    {
        byte[] bytes = WireMapping.ToWire(message).ToByteArray();
        return WireMapping.FromWire(Wire.Message.Parser.ParseFrom(bytes));
    }

    private static T ThroughBytes<T>(T wire)
        where T : IMessage<T>, new()
    {
        var copy = new T();
        copy.MergeFrom(wire.ToByteArray());
        return copy;
    }

    [Fact(DisplayName = "Every well-formed core message survives core → wire → bytes → wire → core")]
    public void Message_ThroughBytes_EqualsOriginal()
    {
        Property.ForAll(Generators.Messages, message =>
        {
            Assert.True(message.IsWellFormed);
            var back = ThroughBytes(message);
            Assert.Equal(message, back);
            Assert.True(back.IsWellFormed);
        }, seed: 20261125, iterations: 2000);
    }

    [Fact(DisplayName = "Encode then Decode gives the original message")]
    public void EncodeDecode_AnyMessage_EqualsOriginal()
    {
        Property.ForAll(Generators.Messages, message =>
        {
            byte[] bytes = WireMapping.Encode(message);
            Assert.Equal(message, WireMapping.Decode(bytes));
            Assert.Equal(bytes, WireMapping.Encode(WireMapping.Decode(bytes)));
        }, seed: 7, iterations: 1000);
    }

    [Fact]
    public void Span_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.Spans, span =>
            Assert.Equal(span, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(span)))), seed: 1);

    [Fact]
    public void TableStatus_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.Statuses, status =>
            Assert.Equal(status, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(status)))), seed: 2);

    [Fact]
    public void Stats_ThroughBytes_EqualsOriginalIncludingStageMap() =>
        Property.ForAll(Generators.Stats, stats =>
        {
            var back = WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(stats)));
            Assert.Equal(stats, back);
            Assert.Equal(stats.StageCheckpoints.OrderBy(p => p.Key, StringComparer.Ordinal), back.StageCheckpoints.OrderBy(p => p.Key, StringComparer.Ordinal));
        }, seed: 3);

    [Fact]
    public void Barrier_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.Barriers, barrier =>
            Assert.Equal(barrier, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(barrier)))), seed: 4);

    [Fact]
    public void Header_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.Headers, header =>
            Assert.Equal(header, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(header)))), seed: 5);

    [Fact]
    public void Heartbeat_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.Heartbeats, heartbeat =>
            Assert.Equal(heartbeat, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(heartbeat)))), seed: 6);

    [Fact]
    public void HeartbeatResponse_ThroughBytes_EqualsOriginal() =>
        Property.ForAll(Generators.HeartbeatResponses, response =>
            Assert.Equal(response, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(response)))), seed: 8);

    [Fact]
    public void DispatchRequestAndResponse_ThroughBytes_EqualOriginal()
    {
        Property.ForAll(Generators.DispatchRequests, request =>
            Assert.Equal(request, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(request)))), seed: 9);
        Property.ForAll(Generators.DispatchResponses, response =>
            Assert.Equal(response, WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(response)))), seed: 10);
    }

    [Fact(DisplayName = "Stats presence is kept: null stays absent, an empty Stats stays present and empty")]
    public void TableStatus_NullAndEmptyStats_KeepTheirPresence()
    {
        var span = TableSpans.WholeTable(42);
        var withoutStats = new TableStatus(span, TableState.Replicating, Checkpoint.At(new Ts(10)));
        var withEmptyStats = withoutStats with { Stats = new Stats() };

        Assert.Null(WireMapping.ToWire(withoutStats).Stats);
        Assert.Null(WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(withoutStats))).Stats);
        var back = WireMapping.FromWire(ThroughBytes(WireMapping.ToWire(withEmptyStats))).Stats;
        Assert.NotNull(back);
        Assert.True(back.IsEmpty);
    }

    [Fact(DisplayName = "Empty keys go out as empty bytes and come back as 'no key'")]
    public void Span_EmptyKeys_MapToEmptyByteStrings()
    {
        var keyless = new Span(7, [], null);
        var wire = WireMapping.ToWire(keyless);

        Assert.True(wire.StartKey.IsEmpty);
        Assert.True(wire.EndKey.IsEmpty);
        Assert.Equal(new byte[] { 0x08, 0x07 }, wire.ToByteArray());
        var back = WireMapping.FromWire(ThroughBytes(wire));
        Assert.Equal(keyless, back);
        Assert.Null(back.StartKeyArray);
        Assert.Null(back.EndKeyArray);
    }

    [Fact(DisplayName = "Default (null) capture ids, epoch and version come back as empty strings")]
    public void Message_DefaultStrings_NormaliseToEmpty()
    {
        var message = Message.RemoveTable(default, new Span(3)) with { Header = default };

        var back = WireMapping.Decode(WireMapping.Encode(message));

        Assert.Equal(string.Empty, back.From.Value);
        Assert.Equal(string.Empty, back.To.Value);
        Assert.Equal(string.Empty, back.Header.Version);
        Assert.Equal(string.Empty, back.Header.ProcessorEpoch.Value);
        Assert.Equal(message.DispatchTableRequest, back.DispatchTableRequest);
    }

    [Fact(DisplayName = "A heartbeat to 131,072 spans encodes within the default limit and round-trips")]
    public void Heartbeat_ManySpans_RoundTrips()
    {
        var spans = new Span[131_072];
        for (int index = 0; index < spans.Length; index++)
        {
            spans[index] = TableSpans.WholeTable(index + 1);
        }

        var message = new Message
        {
            Header = new Header("v1.0.0", new OwnerRevision(9), new ProcessorEpoch("e"), new ChangefeedEpoch(3)),
            Type = MessageType.Heartbeat,
            From = "owner",
            To = "capture-1",
            Heartbeat = new Heartbeat { Spans = spans, CollectStats = true, Barrier = new Barrier { GlobalBarrierTs = new Ts(5) } },
        };

        byte[] bytes = WireMapping.Encode(message);

        Assert.InRange(bytes.Length, 6_000_000, 7_000_000); // ≈ 49 bytes a span, as docs/PROTOCOL.md says
        Assert.Equal(message, WireMapping.Decode(bytes));
    }
}
