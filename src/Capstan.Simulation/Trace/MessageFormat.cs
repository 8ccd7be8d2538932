namespace Capstan.Simulation.Trace;

using System.Text;
using Capstan.Core.Protocol;

/// <summary>Readable one-line renderings of scheduler messages for the trace.</summary>
internal static class MessageFormat
{
    private const int MaxStatusesShown = 6;

    /// <summary>True when the message is about <paramref name="table"/> (a dispatch for it, or a heartbeat listing it).</summary>
    public static bool Mentions(Message message, long table)
    {
        switch (message.Type)
        {
            case MessageType.DispatchTableRequest:
                var request = message.DispatchTableRequest!;
                return (request.AddTable?.Span ?? request.RemoveTable!.Span).TableId.Value == table;
            case MessageType.DispatchTableResponse:
                var response = message.DispatchTableResponse!;
                return (response.AddTable?.Status ?? response.RemoveTable!.Status).Span.TableId.Value == table;
            case MessageType.Heartbeat:
                foreach (var span in message.Heartbeat!.Spans)
                {
                    if (span.TableId.Value == table)
                    {
                        return true;
                    }
                }

                return false;
            case MessageType.HeartbeatResponse:
                foreach (var status in message.HeartbeatResponse!.Tables)
                {
                    if (status.Span.TableId.Value == table)
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>"c1 → c3 r5/e2 Heartbeat …"; for heartbeat responses the status of <paramref name="table"/> is shown first.</summary>
    public static string Describe(Message message, TraceLog trace, long table)
    {
        var text = new StringBuilder();
        text.Append(message.From.Value).Append(" → ").Append(message.To.Value)
            .Append(" [r").Append(message.Header.OwnerRevision.Value);
        if (!message.Header.ProcessorEpoch.IsNone)
        {
            text.Append(' ').Append(message.Header.ProcessorEpoch.Value);
        }

        text.Append("] ");
        switch (message.Type)
        {
            case MessageType.Heartbeat:
                var heartbeat = message.Heartbeat!;
                text.Append("Heartbeat ").Append(heartbeat.Spans.Count).Append(" spans");
                text.Append(heartbeat.IsStopping ? " stopping" : string.Empty);
                break;
            case MessageType.HeartbeatResponse:
                DescribeHeartbeatResponse(text, message.HeartbeatResponse!, trace, table);
                break;
            case MessageType.DispatchTableRequest:
                DescribeRequest(text, message.DispatchTableRequest!, trace);
                break;
            case MessageType.DispatchTableResponse:
                var response = message.DispatchTableResponse!;
                text.Append(response.AddTable is null ? "RemoveTableResponse " : "AddTableResponse ");
                AppendStatus(text, response.AddTable?.Status ?? response.RemoveTable!.Status, trace);
                break;
            default:
                text.Append(message.Type);
                break;
        }

        return text.ToString();
    }

    private static void DescribeRequest(StringBuilder text, DispatchTableRequest request, TraceLog trace)
    {
        if (request.AddTable is { } add)
        {
            text.Append(add.IsSecondary ? "AddTable(prepare) t" : "AddTable(commit) t").Append(add.Span.TableId.Value)
                .Append(" @").Append(trace.FormatTs(add.Checkpoint.CheckpointTs));
        }
        else
        {
            text.Append("RemoveTable t").Append(request.RemoveTable!.Span.TableId.Value);
        }
    }

    private static void DescribeHeartbeatResponse(StringBuilder text, HeartbeatResponse response, TraceLog trace, long table)
    {
        text.Append("HeartbeatResponse ").Append(response.Liveness).Append(' ').Append(response.Tables.Count).Append(" tables:");
        int shown = 0;
        foreach (var status in response.Tables)
        {
            if (status.Span.TableId.Value == table)
            {
                text.Append(' ');
                AppendStatus(text, status, trace);
                shown++;
            }
        }

        foreach (var status in response.Tables)
        {
            if (shown >= MaxStatusesShown)
            {
                text.Append(" …");
                break;
            }

            if (status.Span.TableId.Value != table)
            {
                text.Append(' ');
                AppendStatus(text, status, trace);
                shown++;
            }
        }
    }

    private static void AppendStatus(StringBuilder text, TableStatus status, TraceLog trace)
    {
        text.Append('t').Append(status.Span.TableId.Value).Append(' ').Append(status.State);
        if (status.Checkpoint.CheckpointTs.Value != 0)
        {
            text.Append('@').Append(trace.FormatTs(status.Checkpoint.CheckpointTs));
        }
    }
}
