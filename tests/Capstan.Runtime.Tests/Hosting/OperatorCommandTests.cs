namespace Capstan.Runtime.Tests.Hosting;

using Capstan.Core.Model;
using Capstan.Core.Replication;

/// <summary>Host support for operator commands: resign owner, live table-list changes (used by the HTTP API).</summary>
public sealed class OperatorCommandTests
{
    [Fact(DisplayName = "Resign owner: the next housekeeping step gives up the term; another capture wins a higher revision; tables keep replicating")]
    public async Task ResignOwner_AnotherCaptureTakesOver()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 9, seed: 11);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.Find(cluster.OwnerId)!;
        var revision = owner.OwnerRevision!.Value;

        var resigned = owner.ResignOwnerAsync();
        Assert.False(resigned.IsCompleted); // carried out by the capture's own step, not by the caller
        cluster.Step();
        Assert.True(await resigned);

        cluster.StepUntil(() => !cluster.OwnerId.IsNone && cluster.OwnerId != owner.Id, 200, "a new owner", changefeed.Id);
        Assert.True(cluster.Find(cluster.OwnerId)!.OwnerRevision!.Value > revision);
        Assert.Empty(owner.Owners);
        cluster.UntilAllReplicating(changefeed);
        cluster.AssertNoGap(changefeed);
    }

    [Fact(DisplayName = "Resign on a capture that is not the owner completes with false and changes nothing")]
    public async Task ResignNonOwner_False()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 2, tables: 2, seed: 12);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.OwnerId;
        var other = cluster.Captures.First(c => c.Id != owner);
        var resigned = other.ResignOwnerAsync();
        cluster.Step();
        Assert.False(await resigned);
        Assert.Equal(owner, cluster.OwnerId);
    }

    [Fact(DisplayName = "Tables added to and dropped from a running changefeed's definition are scheduled and removed by the same owner host")]
    public async Task TableListChanges_AreScheduled()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 2, tables: 4, seed: 13);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var ownerHost = cluster.Find(cluster.OwnerId)!.Owners.Single();

        var updated = changefeed with { Tables = [2, 3, 4, 5, 6] };
        await cluster.Metadata.PutChangefeedAsync(updated, CancellationToken.None);
        cluster.StepUntil(() =>
        {
            var sets = cluster.Find(cluster.OwnerId)!.Owners.Single().Snapshot;
            return sets.SetCount == 5 && sets.SetsByState[(int)ReplicationSetState.Replicating] == 5;
        }, 400, "tables 5 and 6 replicating, table 1 removed", changefeed.Id);

        Assert.Same(ownerHost, cluster.Find(cluster.OwnerId)!.Owners.Single()); // not a restart: the same host
        Assert.Null(await cluster.DescribeTableAsync(changefeed.Id, 1));
        Assert.Equal(ReplicationSetState.Replicating, (await cluster.DescribeTableAsync(changefeed.Id, 6))!.Value.State);
    }
}
