namespace Capstan.Protocol.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using CsCheck;
using Google.Protobuf;
using Wire = Capstan.Protocol.Wire;

public class MalformedTests
{
    private static Wire.Header WireHeader() => WireMapping.ToWire(
        new Header("v1", new OwnerRevision(4), new ProcessorEpoch("p"), new ChangefeedEpoch(2)));

    private static Wire.Message WireHeartbeat() => new()
    {
        Header = WireHeader(),
        MsgType = Wire.MessageType.Heartbeat,
        From = "owner",
        To = "c1",
        Heartbeat = new Wire.Heartbeat(),
    };

    private static Wire.Message WireHeartbeatResponse(params Wire.TableStatus[] tables)
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.HeartbeatResponse,
            From = "c1",
            To = "owner",
            HeartbeatResponse = new Wire.HeartbeatResponse(),
        };
        message.HeartbeatResponse.Tables.AddRange(tables);
        return message;
    }

    private static Wire.TableStatus WireStatus(long table, Wire.TableState state)
    {
        var status = WireMapping.ToWire(new TableStatus(TableSpans.WholeTable(table), TableState.Replicating, Checkpoint.At(new Ts(1))));
        status.State = state;
        return status;
    }

    /// <summary>Decodes the wire message's bytes and expects a <see cref="WireFormatException"/>.</summary>
    private static WireFormatException Rejected(Wire.Message message)
    {
        var fromObject = Assert.Throws<WireFormatException>(() => WireMapping.FromWire(message));
        var fromBytes = Assert.Throws<WireFormatException>(() => WireMapping.Decode(message.ToByteArray()));
        Assert.Equal(fromObject.Message, fromBytes.Message);
        return fromBytes;
    }

    [Fact(DisplayName = "Heartbeat type without the heartbeat payload is rejected")]
    public void FromWire_PayloadMissingForType_Throws()
    {
        var message = WireHeartbeat();
        message.Heartbeat = null;

        var error = Rejected(message);

        Assert.Contains("heartbeat payload is missing", error.Message);
        Assert.Contains("from 'owner' to 'c1'", error.Message);
    }

    [Fact(DisplayName = "A message with two payloads is rejected")]
    public void FromWire_TwoPayloads_Throws()
    {
        var message = WireHeartbeat();
        message.HeartbeatResponse = new Wire.HeartbeatResponse();

        Assert.Contains("also carries heartbeat_response", Rejected(message).Message);
    }

    [Fact(DisplayName = "A request type that carries a response payload is rejected")]
    public void FromWire_RequestTypeWithResponsePayload_Throws()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableRequest,
            DispatchTableResponse = new Wire.DispatchTableResponse { AddTable = new Wire.AddTableResponse { Status = WireStatus(1, Wire.TableState.Prepared) } },
        };

        Assert.Contains("dispatch_table_request payload is missing", Rejected(message).Message);
    }

    [Fact(DisplayName = "Message type Unknown (0) is rejected even with a payload")]
    public void FromWire_UnknownType_Throws()
    {
        var message = WireHeartbeat();
        message.MsgType = Wire.MessageType.Unknown;

        Assert.Contains("Unknown (0)", Rejected(message).Message);
    }

    [Fact(DisplayName = "A message type the protocol does not define is rejected")]
    public void FromWire_UndefinedType_Throws()
    {
        var message = WireHeartbeat();
        message.MsgType = (Wire.MessageType)9;

        var error = Rejected(message);

        Assert.Equal("msg_type", error.FieldPath);
        Assert.Contains("9 is not a MessageType value", error.Message);
    }

    [Fact(DisplayName = "A message without a header is rejected")]
    public void FromWire_MissingHeader_Throws()
    {
        var message = WireHeartbeat();
        message.Header = null;

        Assert.Contains("header is missing", Rejected(message).Message);
    }

    [Fact(DisplayName = "A dispatch request with neither add nor remove set is rejected")]
    public void FromWire_DispatchRequestWithoutVariant_Throws()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableRequest,
            DispatchTableRequest = new Wire.DispatchTableRequest(),
        };

        var error = Rejected(message);

        Assert.Equal("dispatch_table_request", error.FieldPath);
        Assert.Contains("neither add_table nor remove_table", error.Reason);
    }

    [Fact(DisplayName = "A dispatch response with neither add nor remove set is rejected")]
    public void FromWire_DispatchResponseWithoutVariant_Throws()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableResponse,
            DispatchTableResponse = new Wire.DispatchTableResponse(),
        };

        Assert.Equal("dispatch_table_response", Rejected(message).FieldPath);
    }

    [Fact(DisplayName = "An add response without its status is rejected")]
    public void FromWire_ResponseWithoutStatus_Throws()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableResponse,
            DispatchTableResponse = new Wire.DispatchTableResponse { RemoveTable = new Wire.RemoveTableResponse() },
        };

        var error = Rejected(message);

        Assert.Equal("dispatch_table_response.remove_table", error.FieldPath);
        Assert.Equal("the status is missing", error.Reason);
    }

    [Fact(DisplayName = "An undefined table state is rejected with the path of the offending status")]
    public void FromWire_UndefinedTableState_NamesTheField()
    {
        var message = WireHeartbeatResponse(WireStatus(1, Wire.TableState.Replicating), WireStatus(2, (Wire.TableState)42));

        var error = Rejected(message);

        Assert.Equal("heartbeat_response.tables[1].state", error.FieldPath);
        Assert.Equal("42 is not a TableState value", error.Reason);
    }

    [Fact(DisplayName = "An undefined liveness is rejected")]
    public void FromWire_UndefinedLiveness_Throws()
    {
        var message = WireHeartbeatResponse();
        message.HeartbeatResponse.Liveness = (Wire.Liveness)2;

        Assert.Equal("heartbeat_response.liveness", Rejected(message).FieldPath);
    }

    [Fact(DisplayName = "A status inside a dispatch response with an undefined state names the full path")]
    public void FromWire_UndefinedStateInResponse_NamesTheField()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableResponse,
            DispatchTableResponse = new Wire.DispatchTableResponse { AddTable = new Wire.AddTableResponse { Status = WireStatus(1, (Wire.TableState)7) } },
        };

        Assert.Equal("dispatch_table_response.add_table.status.state", Rejected(message).FieldPath);
    }

    [Fact(DisplayName = "A request without a span and without a legacy table id is rejected")]
    public void FromWire_RequestWithoutSpan_Throws()
    {
        var message = new Wire.Message
        {
            Header = WireHeader(),
            MsgType = Wire.MessageType.DispatchTableRequest,
            DispatchTableRequest = new Wire.DispatchTableRequest { AddTable = new Wire.AddTableRequest { IsSecondary = true } },
        };

        Assert.Equal("dispatch_table_request.add_table.span", Rejected(message).FieldPath);
    }

    [Fact(DisplayName = "Bytes that are not protobuf are rejected as a wire format error")]
    public void Decode_Garbage_ThrowsWithInnerProtobufError()
    {
        var error = Assert.Throws<WireFormatException>(() => WireMapping.Decode(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }));

        Assert.IsType<InvalidProtocolBufferException>(error.InnerException);
    }

    [Fact(DisplayName = "A truncated encoding is rejected")]
    public void Decode_Truncated_Throws()
    {
        byte[] bytes = WireMapping.Encode(Message.AddTable("c1", TableSpans.WholeTable(5), true, Checkpoint.At(new Ts(9))));

        Assert.Throws<WireFormatException>(() => WireMapping.Decode(bytes.AsSpan(0, bytes.Length - 3)));
    }

    [Fact(DisplayName = "Decoding random bytes or corrupted encodings only ever yields a well-formed message or a WireFormatException")]
    public void Decode_RandomOrCorruptedInput_NeverThrowsAnythingElse()
    {
        var corrupted = Gen.Select(Generators.Messages, Gen.Int[0, 1000], Gen.Byte, (message, position, value) =>
        {
            byte[] bytes = WireMapping.Encode(message);
            bytes[position % bytes.Length] = value;
            return bytes;
        });
        var inputs = Gen.OneOf(Gen.Byte.Array[0, 64], corrupted);

        Property.ForAll(inputs, bytes =>
        {
            try
            {
                Assert.True(WireMapping.Decode(bytes).IsWellFormed);
            }
            catch (WireFormatException)
            {
                // Expected for most inputs.
            }
        }, seed: 11, iterations: 3000);
    }

    [Fact(DisplayName = "Encoding over the limit is refused; exactly at the limit is fine")]
    public void Encode_OverLimit_Throws()
    {
        var message = Message.AddTable("c1", TableSpans.WholeTable(5), false, Checkpoint.At(new Ts(9)));
        int size = WireMapping.Encode(message).Length;

        Assert.Equal(size, WireMapping.Encode(message, maxMessageBytes: size).Length);
        var error = Assert.Throws<WireFormatException>(() => WireMapping.Encode(message, maxMessageBytes: size - 1));
        Assert.Contains($"{size} bytes, over the limit of {size - 1}", error.Message);
    }

    [Fact(DisplayName = "Decoding input over the limit is refused before parsing")]
    public void Decode_OverLimit_Throws()
    {
        byte[] bytes = WireMapping.Encode(Message.RemoveTable("c1", TableSpans.WholeTable(5)));

        Assert.NotNull(WireMapping.Decode(bytes, maxMessageBytes: bytes.Length));
        var error = Assert.Throws<WireFormatException>(() => WireMapping.Decode(bytes, maxMessageBytes: bytes.Length - 1));
        Assert.Null(error.InnerException);
    }

    [Fact]
    public void EncodeDecode_NonPositiveLimit_ThrowsArgumentOutOfRange()
    {
        var message = Message.RemoveTable("c1", new Span(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WireMapping.Encode(message, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WireMapping.Decode([], -1));
    }

    [Fact(DisplayName = "A core message whose payload does not match its type is refused on the way out")]
    public void ToWire_CoreMessageNotWellFormed_Throws()
    {
        var noPayload = new Message { Type = MessageType.Heartbeat, To = "c1" };
        var twoPayloads = new Message { Type = MessageType.Heartbeat, Heartbeat = Heartbeat.Empty, HeartbeatResponse = new HeartbeatResponse() };
        var unknownType = new Message { Heartbeat = Heartbeat.Empty };

        Assert.Contains("heartbeat payload is missing", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(noPayload)).Message);
        Assert.Contains("also carries heartbeat_response", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(twoPayloads)).Message);
        Assert.Throws<WireFormatException>(() => WireMapping.Encode(unknownType));
    }

    [Fact(DisplayName = "A core dispatch request with both or neither variant is refused on the way out")]
    public void ToWire_CoreDispatchRequestBothOrNeither_Throws()
    {
        var span = new Span(1);
        var both = new DispatchTableRequest { AddTable = new AddTableRequest(span, true, default), RemoveTable = new RemoveTableRequest(span) };
        var message = new Message { Type = MessageType.DispatchTableRequest, DispatchTableRequest = both };

        Assert.Equal("dispatch_table_request", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(message)).FieldPath);
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire(new DispatchTableRequest()));
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire(new DispatchTableResponse()));
    }

    [Fact(DisplayName = "A core status with an undefined state, or a null list, is refused on the way out (no NullReferenceException)")]
    public void ToWire_CoreUndefinedStateOrNullList_Throws()
    {
        var badStatus = new TableStatus(new Span(1), (TableState)9, default);
        var response = new Message
        {
            Type = MessageType.HeartbeatResponse,
            HeartbeatResponse = new HeartbeatResponse { Tables = [badStatus] },
        };
        var nullSpans = new Message { Type = MessageType.Heartbeat, Heartbeat = new Heartbeat { Spans = null! } };

        Assert.Equal("heartbeat_response.tables[0].state", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(response)).FieldPath);
        Assert.Equal("heartbeat", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(nullSpans)).FieldPath);
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire((Liveness)5));
    }

    [Fact(DisplayName = "Null collections deep inside a core message are refused with their path")]
    public void ToWire_CoreNestedNullCollections_NameTheField()
    {
        var nullBarrierList = new Heartbeat { Barrier = new Barrier { TableBarriers = null! } };
        var nullStageMap = new HeartbeatResponse
        {
            Tables = [new TableStatus(new Span(1), TableState.Replicating, default, new Stats { StageCheckpoints = null! })],
        };

        Assert.Equal("heartbeat.barrier", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(nullBarrierList)).FieldPath);
        Assert.Equal("heartbeat_response.tables[0].stats", Assert.Throws<WireFormatException>(() => WireMapping.ToWire(nullStageMap)).FieldPath);
    }
}
