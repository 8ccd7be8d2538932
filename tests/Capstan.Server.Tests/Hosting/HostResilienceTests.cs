namespace Capstan.Server.Tests.Hosting;

using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;

/// <summary>The host loops survive a cluster store that fails for a while (etcd restarting) and carry on when it is back.</summary>
public sealed class HostResilienceTests
{
    [Fact(DisplayName = "Cluster store failing for a while: the capture and owner loops keep running, then pick up a changefeed created meanwhile and persist the checkpoint again")]
    public async Task StoreFailing_LoopsSurvive_AndCatchUp()
    {
        var store = new FlakyStore();
        await using var kit = new InProcessKit(metadata: store);
        store.Inner = kit.Metadata;
        var (a, _) = kit.Start("a");
        await kit.CreateChangefeedAsync(10);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) == 10, "a replicates 10 tables");
        await InProcessKit.WaitAsync(() => StatusOf(kit, InProcessKit.Changefeed) is not null, "a checkpoint is persisted");

        store.Broken = true;
        await InProcessKit.WaitAsync(() => store.FailedLists > 5 && store.FailedWrites > 5, "listing changefeeds and writing statuses failed several times");
        var before = StatusOf(kit, InProcessKit.Changefeed)!.CheckpointTs;
        await kit.Metadata.PutChangefeedAsync(new ChangefeedInfo
        {
            Id = "cf2",
            Tables = [new TableId(100)],
            StartTs = kit.Clock.Now(),
            Epoch = new ChangefeedEpoch(kit.Clock.Next().Value),
        }, CancellationToken.None);
        Assert.Single(a.Current!.Agents);
        store.Broken = false;

        await InProcessKit.WaitAsync(() => a.Current!.Agents.Count == 2, "the changefeed created during the failure gets an agent");
        await InProcessKit.WaitAsync(() => StatusOf(kit, InProcessKit.Changefeed)!.CheckpointTs > before, "the checkpoint is persisted again");
        Assert.Single(a.Incarnations);
        Assert.Equal(CaptureNodeState.Running, a.Current!.State);
    }

    private static ChangefeedStatus? StatusOf(InProcessKit kit, string changefeed) =>
        kit.Metadata.GetStatusAsync(changefeed, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Lists and status writes throw while <see cref="Broken"/>, as an unreachable etcd would.</summary>
    private sealed class FlakyStore : IMetadataStore
    {
        private int _failedLists;
        private int _failedWrites;

        public IMetadataStore Inner { get; set; } = null!;

        public volatile bool Broken;

        public int FailedLists => Volatile.Read(ref _failedLists);

        public int FailedWrites => Volatile.Read(ref _failedWrites);

        public Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken)
        {
            if (Broken)
            {
                Interlocked.Increment(ref _failedLists);
                return Task.FromException<IReadOnlyList<ChangefeedInfo>>(new IOException("etcd is unreachable"));
            }

            return Inner.ListChangefeedsAsync(cancellationToken);
        }

        public Task<ChangefeedInfo?> GetChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken) => Inner.GetChangefeedAsync(id, cancellationToken);

        public Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken) => Inner.PutChangefeedAsync(info, cancellationToken);

        public Task<bool> RemoveChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken) => Inner.RemoveChangefeedAsync(id, cancellationToken);

        public Task<ChangefeedStatus?> GetStatusAsync(ChangefeedId id, CancellationToken cancellationToken) => Inner.GetStatusAsync(id, cancellationToken);

        public Task<bool> TryPutStatusAsync(ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken)
        {
            if (Broken)
            {
                Interlocked.Increment(ref _failedWrites);
                return Task.FromException<bool>(new IOException("etcd is unreachable"));
            }

            return Inner.TryPutStatusAsync(id, status, owner, cancellationToken);
        }
    }
}
