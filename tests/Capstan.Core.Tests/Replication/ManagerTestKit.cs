namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>Builders for replication-manager tests: agents' messages and rebuilt managers.</summary>
internal static class ManagerTestKit
{
    public static Span T(long table) => TableSpans.WholeTable(table);

    public static Message Heartbeat(string from, params TableStatus[] statuses) => new()
    {
        Type = MessageType.HeartbeatResponse,
        From = from,
        HeartbeatResponse = new HeartbeatResponse { Tables = statuses },
    };

    public static Message AddResponse(string from, TableStatus status) => new()
    {
        Type = MessageType.DispatchTableResponse,
        From = from,
        DispatchTableResponse = new DispatchTableResponse { AddTable = new AddTableResponse(status) },
    };

    public static Message RemoveResponse(string from, TableStatus status) => new()
    {
        Type = MessageType.DispatchTableResponse,
        From = from,
        DispatchTableResponse = new DispatchTableResponse { RemoveTable = new RemoveTableResponse(status) },
    };

    /// <summary>A manager rebuilt (owner fail-over) from what agents report.</summary>
    public static ReplicationManager Rebuilt(int maxTaskConcurrency, params (string Capture, TableStatus Status)[] reports)
    {
        var manager = new ReplicationManager(maxTaskConcurrency);
        var outbox = new List<Message>();
        manager.HandleCaptureChanges(Init(reports), null, Ts.Zero, outbox);
        Assert.Empty(outbox);
        return manager;
    }

    public static Dictionary<CaptureId, IReadOnlyList<TableStatus>> Init(params (string Capture, TableStatus Status)[] reports) =>
        reports.GroupBy(r => r.Capture).ToDictionary(g => new CaptureId(g.Key), g => (IReadOnlyList<TableStatus>)g.Select(r => r.Status).ToList());

    public static List<Message> Handle(this ReplicationManager manager, params Message[] messages)
    {
        var outbox = new List<Message>();
        manager.HandleMessages(messages, outbox);
        return outbox;
    }

    public static List<Message> Tasks(this ReplicationManager manager, params ScheduleTask[] tasks)
    {
        var outbox = new List<Message>();
        manager.HandleTasks(tasks, outbox);
        return outbox;
    }

    public static List<Message> CaptureRemoved(this ReplicationManager manager, params string[] captures)
    {
        var outbox = new List<Message>();
        manager.HandleCaptureChanges(null, captures.Select(c => new CaptureId(c)).ToList(), Ts.Zero, outbox);
        return outbox;
    }

    public static ReplicationSet Set(this ReplicationManager manager, Span span)
    {
        Assert.True(manager.Spans.TryGetValue(span, out var set), $"no set for {span}");
        return set;
    }

    /// <summary>Stats carrying only a puller-egress resolved ts.</summary>
    public static Stats Puller(ulong resolvedTs) => new()
    {
        StageCheckpoints = new Dictionary<string, Checkpoint> { [StageNames.PullerEgress] = new(resolvedTs, resolvedTs, Ts.Zero) },
    };

    public static TableStatus Status(Span span, TableState state, ulong checkpointTs = 0, ulong resolvedTs = 0, ulong lastSyncedTs = 0, ulong? puller = null) =>
        new(span, state, new Checkpoint(checkpointTs, resolvedTs, lastSyncedTs), puller is { } p ? Puller(p) : null);
}
