namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>Builders and assertions shared by the replication tests. States are reached by feeding inputs only.</summary>
internal static class ReplicationTestKit
{
    public static readonly Span T1 = TableSpans.WholeTable(1);

    public static TableStatus Status(Span span, TableState state, ulong checkpointTs = 0, ulong resolvedTs = 0, ulong lastSyncedTs = 0, Stats? stats = null) =>
        new(span, state, new Checkpoint(checkpointTs, resolvedTs, lastSyncedTs), stats);

    /// <summary>Rebuilds a set as after an owner fail-over, from (capture, state) pairs.</summary>
    public static ReplicationSet Rebuild(Span span, ulong checkpointTs, params (string Capture, TableState State)[] statuses) =>
        new(span, checkpointTs, statuses.Select(s => new KeyValuePair<CaptureId, TableStatus>(s.Capture, Status(span, s.State))));

    /// <summary>Polls and returns the emitted messages.</summary>
    public static List<Message> Report(this ReplicationSet set, string from, TableState state, ulong checkpointTs = 0, ulong resolvedTs = 0, ulong lastSyncedTs = 0)
    {
        var outbox = new List<Message>();
        set.Poll(Status(set.Span, state, checkpointTs, resolvedTs, lastSyncedTs), from, outbox);
        return outbox;
    }

    public static List<Message> Add(this ReplicationSet set, string capture)
    {
        var outbox = new List<Message>();
        set.HandleAddTable(capture, outbox);
        return outbox;
    }

    public static List<Message> Move(this ReplicationSet set, string destination)
    {
        var outbox = new List<Message>();
        set.HandleMoveTable(destination, outbox);
        return outbox;
    }

    public static List<Message> Remove(this ReplicationSet set)
    {
        var outbox = new List<Message>();
        set.HandleRemoveTable(outbox);
        return outbox;
    }

    public static (List<Message> Messages, bool Affected) Shutdown(this ReplicationSet set, string capture)
    {
        var outbox = new List<Message>();
        bool affected = set.HandleCaptureShutdown(capture, outbox);
        return (outbox, affected);
    }

    /// <summary>A set replicating on <paramref name="primary"/>, reached through add → prepared → replicating.</summary>
    public static ReplicationSet Replicating(string primary, ulong checkpointTs = 0, Span? span = null)
    {
        var set = new ReplicationSet(span ?? T1, checkpointTs);
        set.Add(primary);
        set.Report(primary, TableState.Prepared);
        set.Report(primary, TableState.Replicating, checkpointTs, checkpointTs);
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        return set;
    }

    public static void AssertAdd(Message message, string to, Span span, bool isSecondary, Checkpoint checkpoint)
    {
        Assert.True(message.IsWellFormed);
        Assert.Equal(MessageType.DispatchTableRequest, message.Type);
        Assert.Equal(new CaptureId(to), message.To);
        var add = message.DispatchTableRequest!.AddTable;
        Assert.NotNull(add);
        Assert.Equal(span, add.Span);
        Assert.Equal(isSecondary, add.IsSecondary);
        Assert.Equal(checkpoint, add.Checkpoint);
    }

    public static void AssertRemove(Message message, string to, Span span)
    {
        Assert.True(message.IsWellFormed);
        Assert.Equal(MessageType.DispatchTableRequest, message.Type);
        Assert.Equal(new CaptureId(to), message.To);
        var remove = message.DispatchTableRequest!.RemoveTable;
        Assert.NotNull(remove);
        Assert.Equal(span, remove.Span);
    }

    public static Dictionary<string, CaptureRole> Roles(ReplicationSet set)
    {
        var roles = new Dictionary<string, CaptureRole>();
        foreach (var (capture, role) in set.Captures)
        {
            roles.Add(capture.Value, role);
        }

        return roles;
    }

    public static Checkpoint Ck(ulong checkpointTs, ulong resolvedTs, ulong lastSyncedTs = 0) => new(checkpointTs, resolvedTs, lastSyncedTs);
}
