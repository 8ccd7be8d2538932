namespace Capstan.Protocol;

using Capstan.Core.Model;
using Google.Protobuf;
using Core = Capstan.Core.Protocol;

/// <summary>
/// Maps the core's scheduler messages (<see cref="Core.Message"/> and its parts) to the generated
/// protobuf types of schedule.proto and back, and encodes them to bytes.
/// </summary>
/// <remarks>
/// <para>
/// Round trip: for every well-formed core message m, <c>FromWire(ToWire(m)) == m</c> and
/// <c>Decode(Encode(m)) == m</c>, with two normalisations: a null string (the default of a
/// <see cref="CaptureId"/>, <see cref="ProcessorEpoch"/> or <see cref="Core.Header.Version"/>)
/// comes back as "", and lists come back as arrays.
/// </para>
/// <para>
/// Presence: optional parts keep their presence — a null <see cref="Core.Stats"/> or
/// <see cref="Core.Barrier"/> is an absent field, a present one (even empty) a present field.
/// A missing checkpoint or identity reads as zero, as in proto3. A missing header, payload or
/// status, a payload that does not match the message type, and an enum value the protocol does
/// not define are malformed: <see cref="WireFormatException"/>, never a NullReferenceException.
/// </para>
/// <para>
/// Legacy fields: the table-id fields TiCDC used before span replication are written
/// (= span.table_id) and read only when a span is missing, as TiCDC's compat layer does.
/// </para>
/// <para>
/// Keys are not copied on the way out: the wire bytes wrap the span's arrays, which are immutable
/// by convention. On the way in, a decoded key array is taken over by the span.
/// </para>
/// </remarks>
public static partial class WireMapping
{
    /// <summary>The default limit of one encoded message (64 MiB, TiCDC's p2p batch limit).</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>Maps a core message to its wire form. Throws <see cref="WireFormatException"/> if it is not well formed.</summary>
    public static Wire.Message ToWire(Core.Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            string? shapeError = ShapeError(
                message.Type,
                message.DispatchTableRequest is not null,
                message.DispatchTableResponse is not null,
                message.Heartbeat is not null,
                message.HeartbeatResponse is not null);
            if (shapeError is not null)
            {
                throw new WireFormatException(shapeError);
            }

            var wire = new Wire.Message
            {
                Header = ToWire(message.Header),
                MsgType = ToWire(message.Type),
                From = message.From.Value ?? string.Empty,
                To = message.To.Value ?? string.Empty,
            };
            SetPayload(message, wire);
            return wire;
        }
        catch (WireFormatException error)
        {
            throw error.WithContext(Describe(message.Type.ToString(), message.From.Value, message.To.Value));
        }
    }

    /// <summary>
    /// Maps a wire message to the core message. Throws <see cref="WireFormatException"/> if it is
    /// malformed; the result always satisfies <see cref="Core.Message.IsWellFormed"/>.
    /// </summary>
    public static Core.Message FromWire(Wire.Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            var type = FromWire(message.MsgType);
            string? shapeError = ShapeError(
                type,
                message.DispatchTableRequest is not null,
                message.DispatchTableResponse is not null,
                message.Heartbeat is not null,
                message.HeartbeatResponse is not null);
            if (shapeError is not null)
            {
                throw new WireFormatException(shapeError);
            }

            if (message.Header is null)
            {
                throw new WireFormatException("the header is missing");
            }

            var core = new Core.Message
            {
                Header = FromWire(message.Header),
                Type = type,
                From = new CaptureId(message.From),
                To = new CaptureId(message.To),
                DispatchTableRequest = type == Core.MessageType.DispatchTableRequest ? FromWire(message.DispatchTableRequest!) : null,
                DispatchTableResponse = type == Core.MessageType.DispatchTableResponse ? FromWire(message.DispatchTableResponse!) : null,
                Heartbeat = type == Core.MessageType.Heartbeat ? FromWire(message.Heartbeat!) : null,
                HeartbeatResponse = type == Core.MessageType.HeartbeatResponse ? FromWire(message.HeartbeatResponse!) : null,
            };
            return core.IsWellFormed ? core : throw new WireFormatException("the message is not well formed");
        }
        catch (WireFormatException error)
        {
            throw error.WithContext(Describe(TypeName(message.MsgType), message.From, message.To));
        }
    }

    /// <summary>
    /// Encodes a core message. Throws <see cref="WireFormatException"/> if it is not well formed or
    /// its encoding exceeds <paramref name="maxMessageBytes"/>.
    /// </summary>
    public static byte[] Encode(Core.Message message, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageBytes);
        var wire = ToWire(message);
        int size = wire.CalculateSize();
        if (size > maxMessageBytes)
        {
            throw new WireFormatException($"the message encodes to {size} bytes, over the limit of {maxMessageBytes}")
                .WithContext(Describe(message.Type.ToString(), message.From.Value, message.To.Value));
        }

        var bytes = new byte[size];
        wire.WriteTo(bytes.AsSpan());
        return bytes;
    }

    /// <summary>
    /// Decodes a core message. Throws <see cref="WireFormatException"/> if the input exceeds
    /// <paramref name="maxMessageBytes"/>, is not a protobuf message, or is malformed.
    /// </summary>
    public static Core.Message Decode(ReadOnlySpan<byte> bytes, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageBytes);
        if (bytes.Length > maxMessageBytes)
        {
            throw new WireFormatException($"the input has {bytes.Length} bytes, over the limit of {maxMessageBytes}");
        }

        Wire.Message wire;
        try
        {
            wire = Wire.Message.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new WireFormatException($"the input is not a valid scheduler message: {error.Message}", error);
        }

        return FromWire(wire);
    }

    /// <summary>Null when exactly the payload named by <paramref name="type"/> is present; otherwise what is wrong.</summary>
    private static string? ShapeError(
        Core.MessageType type, bool dispatchRequest, bool dispatchResponse, bool heartbeat, bool heartbeatResponse)
    {
        var (expected, present) = type switch
        {
            Core.MessageType.DispatchTableRequest => ("dispatch_table_request", dispatchRequest),
            Core.MessageType.DispatchTableResponse => ("dispatch_table_response", dispatchResponse),
            Core.MessageType.Heartbeat => ("heartbeat", heartbeat),
            Core.MessageType.HeartbeatResponse => ("heartbeat_response", heartbeatResponse),
            Core.MessageType.Unknown => (null, false),
            _ => throw new WireFormatException($"unknown message type {(int)type}"),
        };
        if (expected is null)
        {
            return "the message type is Unknown (0); a message must name its payload";
        }

        if (!present)
        {
            return $"the message type is {type} but the {expected} payload is missing";
        }

        int payloads = (dispatchRequest ? 1 : 0) + (dispatchResponse ? 1 : 0) + (heartbeat ? 1 : 0) + (heartbeatResponse ? 1 : 0);
        if (payloads == 1)
        {
            return null;
        }

        var extra = new List<string>(3);
        AddIf(extra, dispatchRequest && type != Core.MessageType.DispatchTableRequest, "dispatch_table_request");
        AddIf(extra, dispatchResponse && type != Core.MessageType.DispatchTableResponse, "dispatch_table_response");
        AddIf(extra, heartbeat && type != Core.MessageType.Heartbeat, "heartbeat");
        AddIf(extra, heartbeatResponse && type != Core.MessageType.HeartbeatResponse, "heartbeat_response");
        return $"the message type is {type} but it also carries {string.Join(" and ", extra)}; exactly one payload is allowed";
    }

    private static void AddIf(List<string> list, bool condition, string item)
    {
        if (condition)
        {
            list.Add(item);
        }
    }

    private static string TypeName(Wire.MessageType type) =>
        Enum.IsDefined(type) ? type.ToString() : $"type {(int)type}";

    private static string Describe(string type, string? from, string? to) =>
        $"{type} message from '{from}' to '{to}'";
}
