namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using static CoordinatorHarness;

public class TaskStatusesTests
{
    [Fact(DisplayName = "Task statuses: per capture, the tables it holds a role for with their checkpoint, from the sets (reports are not kept after initialisation)")]
    public void TaskStatuses_FromReplicationSets()
    {
        var h = new CoordinatorHarness();
        h.SetAlive("a", "b", "c");
        h.Tables.AddRange([1, 2, 3]);
        h.Initialise(new Dictionary<string, TableStatus[]>
        {
            ["a"] = [Replicating(1, 5, 5), Replicating(2, 7, 7)],
            ["b"] = [Replicating(3, 6, 6), Status(2, TableState.Preparing, 4, 4)],
            ["c"] = [],
        });
        Assert.All(h.Coordinator.Captures.Values, capture => Assert.Empty(capture.Tables));

        h.Tick(h.Response("a", Replicating(1, 9, 9), Replicating(2, 9, 9)));
        var statuses = h.Coordinator.GetTaskStatuses();

        Assert.Equal(new Dictionary<TableId, Ts> { [1] = new(9), [2] = new(9) }, statuses["a"]);
        Assert.Equal(new Dictionary<TableId, Ts> { [2] = new(9), [3] = new(6) }, statuses["b"]); // b prepares table 2 (the set's checkpoint)
        Assert.Empty(statuses["c"]);
        Assert.Equal(2, h.Coordinator.Captures["a"].TableCount);
    }
}
