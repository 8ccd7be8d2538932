namespace Capstan.Protocol;

/// <summary>
/// A scheduler message could not be mapped to or from the wire: bytes that are not protobuf, a
/// payload that does not match the message type, an enum value the protocol does not define, a
/// missing required part, or a message over the size limit.
/// </summary>
/// <remarks>
/// Receivers drop (and count) such a message; the protocol tolerates loss, so one bad message
/// never stops a changefeed. The text reads "[context: ][field path: ]reason", e.g.
/// "Heartbeat message from 'a' to 'b': heartbeat.spans[2]: span is missing".
/// </remarks>
public sealed class WireFormatException : Exception
{
    /// <summary>Creates the error with a reason and no field path.</summary>
    public WireFormatException(string reason)
        : this(string.Empty, string.Empty, reason, null)
    {
    }

    /// <summary>Creates the error with a reason and the error that caused it.</summary>
    public WireFormatException(string reason, Exception? innerException)
        : this(string.Empty, string.Empty, reason, innerException)
    {
    }

    private WireFormatException(string context, string fieldPath, string reason, Exception? innerException)
        : base(Compose(context, fieldPath, reason), innerException)
    {
        Context = context;
        FieldPath = fieldPath;
        Reason = reason;
    }

    /// <summary>Which message was at fault (type, sender, receiver); empty when not known.</summary>
    public string Context { get; }

    /// <summary>
    /// The proto field path of the offending value, e.g. "heartbeat_response.tables[3].state";
    /// empty when the message as a whole is at fault.
    /// </summary>
    public string FieldPath { get; }

    /// <summary>What is wrong, without context or path.</summary>
    public string Reason { get; }

    /// <summary>The same error seen from the enclosing message: <paramref name="field"/> is prepended to the path.</summary>
    internal WireFormatException Within(string field)
    {
        string path = FieldPath.Length == 0 ? field
            : FieldPath[0] == '[' ? field + FieldPath
            : field + "." + FieldPath;
        return new WireFormatException(Context, path, Reason, InnerException);
    }

    /// <summary>The same error with the message's context (type, sender, receiver).</summary>
    internal WireFormatException WithContext(string context) => new(context, FieldPath, Reason, InnerException);

    private static string Compose(string context, string fieldPath, string reason)
    {
        string text = fieldPath.Length == 0 ? reason : fieldPath + ": " + reason;
        return context.Length == 0 ? text : context + ": " + text;
    }
}
