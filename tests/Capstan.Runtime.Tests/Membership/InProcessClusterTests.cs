namespace Capstan.Runtime.Tests.Membership;

using Capstan.Core.Model;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Tests.Contracts;

/// <summary>The contract, for the embedded default: one membership, election and store shared by all nodes.</summary>
public sealed class InProcessClusterTests : ClusterContractTests
{
    /// <inheritdoc/>
    protected override Task<IClusterHarness> CreateHarnessAsync() => Task.FromResult<IClusterHarness>(new InProcessHarness());

    [Fact(DisplayName = "In process: Expire removes the capture at once and a later dispose of that session changes nothing")]
    public async Task Expire_RemovesCapture()
    {
        var node = await Harness.AddNodeAsync();
        var membership = (InProcessMembership)node.Membership;
        var session = await membership.RegisterAsync(Capture("a"), CancellationToken.None);

        Assert.True(membership.Expire(new CaptureId("a")));

        Assert.Empty(membership.AliveCaptures);
        Assert.True(session.Lost.IsCancellationRequested);
        Assert.False(membership.Expire(new CaptureId("a")));
        await using var again = await membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await session.DisposeAsync();
        Assert.True(membership.AliveCaptures.ContainsKey(new CaptureId("a")), "disposing the old session must not remove the new registration");
    }

    [Fact(DisplayName = "In process: registering a capture again loses its older session and keeps the capture alive")]
    public async Task RegisterAgain_LosesOlderSession()
    {
        var node = await Harness.AddNodeAsync();
        await using var first = await node.Membership.RegisterAsync(Capture("a"), CancellationToken.None);

        await using var second = await node.Membership.RegisterAsync(Capture("a") with { Address = "elsewhere:1" }, CancellationToken.None);

        Assert.True(first.Lost.IsCancellationRequested);
        Assert.False(second.Lost.IsCancellationRequested);
        Assert.Equal("elsewhere:1", node.Membership.AliveCaptures[new CaptureId("a")].Address);
    }

    [Fact(DisplayName = "In process: owner revisions are 1, 2, 3 across terms")]
    public async Task OwnerRevisions_StartAtOne_AndIncreaseByOne()
    {
        var node = await Harness.AddNodeAsync();
        await using var session = await node.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        var revisions = new List<long>();
        for (var term = 0; term < 3; term++)
        {
            var lease = await node.Election.CampaignAsync(session, CancellationToken.None);
            revisions.Add(lease.Revision.Value);
            await lease.ResignAsync(CancellationToken.None);
        }

        Assert.Equal([1L, 2, 3], revisions);
        Assert.Null(await node.Election.GetOwnerAsync(CancellationToken.None));
    }

    [Fact(DisplayName = "In process: a waiting campaigner whose session was lost is skipped; the next one wins")]
    public async Task WaitingCampaignerWithLostSession_IsSkipped()
    {
        var node = await Harness.AddNodeAsync();
        var membership = (InProcessMembership)node.Membership;
        await using var a = await membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var b = await membership.RegisterAsync(Capture("b"), CancellationToken.None);
        await using var c = await membership.RegisterAsync(Capture("c"), CancellationToken.None);
        var owner = await node.Election.CampaignAsync(a, CancellationToken.None);
        var campaignB = node.Election.CampaignAsync(b, CancellationToken.None);
        var campaignC = node.Election.CampaignAsync(c, CancellationToken.None);

        membership.Expire(new CaptureId("b"));
        await owner.ResignAsync(CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => campaignB);
        var next = await campaignC;
        Assert.Equal(new CaptureId("c"), next.Owner);
        Assert.Equal(new OwnerRevision(2), next.Revision);
    }

    [Fact(DisplayName = "In process: many captures campaigning at once get exactly one owner per term, in increasing revisions")]
    public async Task ConcurrentCampaigns_OneOwnerPerTerm()
    {
        var node = await Harness.AddNodeAsync();
        var election = (InProcessOwnerElection)node.Election;
        var owners = 0;
        var maxOwners = 0;
        var revisions = new System.Collections.Concurrent.ConcurrentBag<long>();
        var campaigners = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            await using var session = await node.Membership.RegisterAsync(Capture($"c{i}"), CancellationToken.None);
            var lease = await election.CampaignAsync(session, CancellationToken.None);
            var now = Interlocked.Increment(ref owners);
            InterlockedMax(ref maxOwners, now);
            revisions.Add(lease.Revision.Value);
            await Task.Yield();
            Interlocked.Decrement(ref owners);
            await lease.ResignAsync(CancellationToken.None);
        }));

        await Task.WhenAll(campaigners);

        Assert.Equal(1, maxOwners);
        Assert.Equal(Enumerable.Range(1, 16).Select(r => (long)r), revisions.Order());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class InProcessHarness : IClusterHarness
    {
        private readonly InProcessMembership _membership = new();
        private readonly InProcessOwnerElection _election = new();
        private readonly InMemoryMetadataStore _store;

        public InProcessHarness() => _store = new InMemoryMetadataStore(_election);

        public Task<ClusterNode> AddNodeAsync() => Task.FromResult(new ClusterNode(_membership, _election, _store));

        public Task LoseSessionAsync(ICaptureSession session)
        {
            _membership.Expire(session.Capture.Id);
            return Task.CompletedTask;
        }

        public Task<int> CampaignCountAsync() => Task.FromResult(_election.CampaignCount);

        public ValueTask DisposeAsync() => _membership.DisposeAsync();
    }
}
