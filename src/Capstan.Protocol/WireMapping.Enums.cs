namespace Capstan.Protocol;

using Core = Capstan.Core.Protocol;

/// <summary>Enum mappings. The numbers are the same on both sides; values the protocol does not define are rejected.</summary>
public static partial class WireMapping
{
    /// <summary>Maps a message type; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Wire.MessageType ToWire(Core.MessageType type) => type switch
    {
        Core.MessageType.Unknown => Wire.MessageType.Unknown,
        Core.MessageType.DispatchTableRequest => Wire.MessageType.DispatchTableRequest,
        Core.MessageType.DispatchTableResponse => Wire.MessageType.DispatchTableResponse,
        Core.MessageType.Heartbeat => Wire.MessageType.Heartbeat,
        Core.MessageType.HeartbeatResponse => Wire.MessageType.HeartbeatResponse,
        _ => throw Undefined("msg_type", "MessageType", (int)type),
    };

    /// <summary>Maps a message type back; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Core.MessageType FromWire(Wire.MessageType type) => type switch
    {
        Wire.MessageType.Unknown => Core.MessageType.Unknown,
        Wire.MessageType.DispatchTableRequest => Core.MessageType.DispatchTableRequest,
        Wire.MessageType.DispatchTableResponse => Core.MessageType.DispatchTableResponse,
        Wire.MessageType.Heartbeat => Core.MessageType.Heartbeat,
        Wire.MessageType.HeartbeatResponse => Core.MessageType.HeartbeatResponse,
        _ => throw Undefined("msg_type", "MessageType", (int)type),
    };

    /// <summary>Maps a span state; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Wire.TableState ToWire(Core.TableState state) => state switch
    {
        Core.TableState.Unknown => Wire.TableState.Unknown,
        Core.TableState.Absent => Wire.TableState.Absent,
        Core.TableState.Preparing => Wire.TableState.Preparing,
        Core.TableState.Prepared => Wire.TableState.Prepared,
        Core.TableState.Replicating => Wire.TableState.Replicating,
        Core.TableState.Stopping => Wire.TableState.Stopping,
        Core.TableState.Stopped => Wire.TableState.Stopped,
        _ => throw Undefined("state", "TableState", (int)state),
    };

    /// <summary>Maps a span state back; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Core.TableState FromWire(Wire.TableState state) => state switch
    {
        Wire.TableState.Unknown => Core.TableState.Unknown,
        Wire.TableState.Absent => Core.TableState.Absent,
        Wire.TableState.Preparing => Core.TableState.Preparing,
        Wire.TableState.Prepared => Core.TableState.Prepared,
        Wire.TableState.Replicating => Core.TableState.Replicating,
        Wire.TableState.Stopping => Core.TableState.Stopping,
        Wire.TableState.Stopped => Core.TableState.Stopped,
        _ => throw Undefined("state", "TableState", (int)state),
    };

    /// <summary>Maps a liveness; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Wire.Liveness ToWire(Core.Liveness liveness) => liveness switch
    {
        Core.Liveness.Alive => Wire.Liveness.Alive,
        Core.Liveness.Stopping => Wire.Liveness.Stopping,
        _ => throw Undefined("liveness", "Liveness", (int)liveness),
    };

    /// <summary>Maps a liveness back; an undefined value is a <see cref="WireFormatException"/>.</summary>
    public static Core.Liveness FromWire(Wire.Liveness liveness) => liveness switch
    {
        Wire.Liveness.Alive => Core.Liveness.Alive,
        Wire.Liveness.Stopping => Core.Liveness.Stopping,
        _ => throw Undefined("liveness", "Liveness", (int)liveness),
    };

    private static WireFormatException Undefined(string field, string enumName, int value) =>
        new WireFormatException($"{value} is not a {enumName} value").Within(field);
}
