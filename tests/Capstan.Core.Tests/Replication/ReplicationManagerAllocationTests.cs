namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using static ManagerTestKit;

/// <summary>
/// The steady-state hot paths allocate nothing per table (measured with the thread's allocation
/// counter after a warm-up call; no timing involved).
/// </summary>
public class ReplicationManagerAllocationTests
{
    private const int Tables = 20_000;
    private const int Captures = 8;

    private static (ReplicationManager Manager, Message[] Heartbeats, TableRanges Ranges) SteadyState(bool ascending)
    {
        var reports = new List<(string, TableStatus)>(Tables);
        for (int table = 0; table < Tables; table++)
        {
            reports.Add(($"capture-{table % Captures}", ManagerTestKit.Status(T(table), TableState.Replicating, 100, 200, 50)));
        }

        var manager = Rebuilt(10, [.. reports]);
        var heartbeats = new Message[Captures];
        for (int capture = 0; capture < Captures; capture++)
        {
            var statuses = reports.Where(r => r.Item1 == $"capture-{capture}")
                .Select(r => r.Item2 with { Checkpoint = new Checkpoint(150, 250, 60) }).ToArray();
            heartbeats[capture] = Heartbeat($"capture-{capture}", statuses);
        }

        var ranges = new TableRanges();
        var ids = Enumerable.Range(0, Tables).Select(t => new TableId(t)).ToList();
        if (!ascending)
        {
            ids.Reverse();
        }

        ranges.UpdateTables(ids);
        return (manager, heartbeats, ranges);
    }

    private static long Allocated(Action action)
    {
        action(); // warm-up: JIT, lazily built ordered views
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact(DisplayName = "Hot path: heartbeats with 20,000 Replicating statuses allocate nothing")]
    public void HandleMessages_SteadyHeartbeats_AllocateNothing()
    {
        var (manager, heartbeats, _) = SteadyState(ascending: true);
        var outbox = new List<Message>();
        long bytes = Allocated(() => manager.HandleMessages(heartbeats, outbox));
        Assert.Empty(outbox);
        Assert.Equal(0, bytes);
        Assert.Equal(new Checkpoint(150, 250, 60), manager.Set(T(7)).Checkpoint);
    }

    [Theory(DisplayName = "Hot path: the watermark over 20,000 tables allocates nothing (ascending or not)")]
    [InlineData(true)]
    [InlineData(false)]
    public void AdvanceCheckpoint_AllocatesNothing(bool ascending)
    {
        var (manager, _, ranges) = SteadyState(ascending);
        Watermark watermark = default;
        long bytes = Allocated(() => watermark = manager.AdvanceCheckpoint(ranges, 1000, 1000));
        Assert.Equal(0, bytes);
        Assert.Equal(new Watermark(100, 200, 50, 0), watermark); // puller: seeded with the rebuild checkpoint 0
    }

    [Fact(DisplayName = "Hot path: updating the table list with the same tables allocates nothing")]
    public void UpdateTables_SameList_AllocatesNothing()
    {
        var ranges = new TableRanges();
        var ids = Enumerable.Range(0, Tables).Select(t => new TableId(t)).ToArray();
        ranges.UpdateTables(ids);
        Assert.Equal(0, Allocated(() => ranges.UpdateTables(ids)));
    }

    [Fact(DisplayName = "Hot path: HandleTasks with no tasks and nothing running allocates nothing")]
    public void HandleTasks_Idle_AllocatesNothing()
    {
        var (manager, _, _) = SteadyState(ascending: true);
        var outbox = new List<Message>();
        var none = Array.Empty<ScheduleTask>();
        Assert.Equal(0, Allocated(() => manager.HandleTasks(none, outbox)));
    }
}
