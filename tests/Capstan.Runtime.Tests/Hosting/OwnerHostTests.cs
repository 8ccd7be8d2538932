namespace Capstan.Runtime.Tests.Hosting;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Transport;

public class OwnerHostTests
{
    [Fact(DisplayName = "Owner host: commands beyond the bounded inbox are refused as busy; queued ones run in the next step")]
    public async Task Commands_BeyondInboxCapacity_AreRefusedAsBusy()
    {
        var options = ClusterFixture.Options(31) with { Host = new HostOptions { CommandInboxCapacity = 2 } };
        await using var cluster = EmbeddedCluster.CreateManual(options);
        await cluster.AddCaptureAsync();
        await cluster.AddCaptureAsync();
        var changefeed = await cluster.CreateChangefeedAsync([1, 2, 3, 4]);
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.Find(cluster.OwnerId)!.Owners[0];

        var first = owner.DescribeTableAsync(1);
        var second = owner.RebalanceAsync();
        var third = owner.MoveTableAsync(1, "capture-2");

        Assert.True(third.IsCompleted);
        Assert.Contains("busy", (await third).Reason, StringComparison.Ordinal);
        Assert.False(first.IsCompleted);
        cluster.Step();
        Assert.Equal(TableSpans.WholeTable(1), (await first)!.Value.Span);
        Assert.True((await second).Accepted);
    }

    [Fact(DisplayName = "Owner host: a deposed owner refuses commands with OwnerUnavailableException")]
    public async Task Commands_AfterTheOwnerDied_Throw()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 2, tables: 4, seed: 32);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.Find(cluster.OwnerId)!.Owners[0];

        await cluster.KillOwnerAsync();

        await Assert.ThrowsAsync<OwnerUnavailableException>(() => owner.RebalanceAsync());
        var refused = await cluster.RebalanceAsync(changefeed.Id);
        Assert.False(refused.Accepted);
    }

    [Fact(DisplayName = "Owner host: an inconsistent rebuild fails the tick; the host recreates the coordinator and scheduling recovers")]
    public async Task FailedTick_RecreatesTheCoordinator()
    {
        await using var cluster = EmbeddedCluster.CreateManual(ClusterFixture.Options(33));
        await cluster.AddCaptureAsync();
        var changefeed = await cluster.CreateChangefeedAsync([1, 2, 3]);
        // Two impostors both claim to replicate table 1: the first initialisation rebuilds a set with two primaries.
        var liars = new[] { await LyingAgent.JoinAsync(cluster, "liar-1", changefeed.Id), await LyingAgent.JoinAsync(cluster, "liar-2", changefeed.Id) };

        cluster.StepUntil(() =>
        {
            foreach (var liar in liars)
            {
                liar.Answer(lie: true);
            }

            return cluster.Snapshot(changefeed.Id).OwnerView is { CoordinatorRestarts: > 0 };
        }, 20, "a failed tick", changefeed.Id);

        var snapshot = cluster.Snapshot(changefeed.Id).OwnerView!;
        Assert.True(snapshot.FailedTicks >= 1);
        Assert.IsAssignableFrom<Core.Replication.ReplicationSetInconsistentException>(cluster.Find(cluster.OwnerId)!.Owners[0].LastError);
        foreach (var liar in liars)
        {
            await liar.LeaveAsync();
        }

        cluster.UntilAllReplicating(changefeed);
        Assert.Equal(3, cluster.Snapshot(changefeed.Id).Captures.Single().Primaries);
    }

    [Fact(DisplayName = "Real-time mode: loops on the system clock schedule every table and a killed capture's tables recover")]
    public async Task RealTime_SchedulesAndRecovers()
    {
        var options = ClusterFixture.Options(34) with { TickMilliseconds = 20, Host = new HostOptions
        {
            AgentTickInterval = TimeSpan.FromMilliseconds(10),
            OwnerTickInterval = TimeSpan.FromMilliseconds(10),
            CaptureTickInterval = TimeSpan.FromMilliseconds(10),
        } };
        await using var cluster = EmbeddedCluster.CreateRealTime(options);
        await cluster.AddCaptureAsync();
        await cluster.AddCaptureAsync();
        await cluster.AddCaptureAsync();
        var changefeed = await cluster.CreateChangefeedAsync(Enumerable.Range(1, 30).Select(i => new TableId(i)).ToList());

        Assert.True(await cluster.WaitUntilAsync(() => cluster.Snapshot(changefeed.Id).AllReplicating, TimeSpan.FromSeconds(30)),
            cluster.Snapshot(changefeed.Id).ToString());
        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId).Id;
        await cluster.KillCaptureAsync(victim);
        Assert.True(await cluster.WaitUntilAsync(() => cluster.Snapshot(changefeed.Id) is { AllReplicating: true } s && s.Captures.Count == 2,
            TimeSpan.FromSeconds(30)), cluster.Snapshot(changefeed.Id).ToString());
        var checkpoint = cluster.Snapshot(changefeed.Id).CheckpointTs;
        Assert.True(await cluster.WaitUntilAsync(() => cluster.Snapshot(changefeed.Id).CheckpointTs > checkpoint, TimeSpan.FromSeconds(30)));
        Assert.Empty(cluster.CheckGaps(changefeed.Id).Gaps);
    }

    /// <summary>A fake agent at the transport edge that answers heartbeats, claiming table 1 when lying.</summary>
    private sealed class LyingAgent(ICaptureSession session, IMessageEndpoint endpoint)
    {
        public static async Task<LyingAgent> JoinAsync(EmbeddedCluster cluster, string id, ChangefeedId changefeed)
        {
            var session = await cluster.Membership.RegisterAsync(new CaptureInfo(id, "fake", CapstanVersion.Current), CancellationToken.None);
            return new LyingAgent(session, cluster.Transport.Open(id, changefeed, TransportRole.Agent));
        }

        public void Answer(bool lie)
        {
            var replies = new List<Message>();
            foreach (var message in endpoint.Receive())
            {
                if (message.Type != MessageType.Heartbeat)
                {
                    continue;
                }

                TableStatus[] tables = lie ? [new TableStatus(TableSpans.WholeTable(1), TableState.Replicating, Checkpoint.At(Ts.FromPhysical(1)))] : [];
                replies.Add(new Message
                {
                    Type = MessageType.HeartbeatResponse,
                    From = session.Capture.Id,
                    To = message.From,
                    Header = new Header(CapstanVersion.Current, message.Header.OwnerRevision, new ProcessorEpoch("fake"), message.Header.ChangefeedEpoch),
                    HeartbeatResponse = new HeartbeatResponse { Tables = tables },
                });
            }

            endpoint.Send(replies);
        }

        public async Task LeaveAsync()
        {
            endpoint.Dispose();
            await session.DisposeAsync();
        }
    }
}
