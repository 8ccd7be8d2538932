namespace Capstan.Runtime.Tests.Contracts;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Tests.Support;

/// <summary>What one capture sees of the cluster: its membership, election and metadata handles.</summary>
public sealed record ClusterNode(IMembership Membership, IOwnerElection Election, IMetadataStore Store);

/// <summary>Creates the nodes of one cluster for a contract test and injects session loss.</summary>
public interface IClusterHarness : IAsyncDisposable
{
    /// <summary>A node: in a real cluster its own client and watch; in process, shared instances.</summary>
    Task<ClusterNode> AddNodeAsync();

    /// <summary>Ends <paramref name="session"/> as a lease expiry would (without the capture's cooperation).</summary>
    Task LoseSessionAsync(ICaptureSession session);

    /// <summary>How many campaigns are in the election: the owner's and the waiting ones.</summary>
    Task<int> CampaignCountAsync();
}

/// <summary>
/// The behaviour every <see cref="IMembership"/>, <see cref="IOwnerElection"/> and
/// <see cref="IMetadataStore"/> implementation must show. Each implementation derives once.
/// </summary>
public abstract class ClusterContractTests : IAsyncLifetime
{
    private IClusterHarness? _harness;

    /// <summary>The harness of the current test.</summary>
    protected IClusterHarness Harness => _harness ?? throw new InvalidOperationException("not initialized");

    /// <summary>Creates a fresh, empty cluster for one test.</summary>
    protected abstract Task<IClusterHarness> CreateHarnessAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync() => _harness = await CreateHarnessAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    /// <summary>A capture description for tests.</summary>
    protected static CaptureInfo Capture(string id) => new(new CaptureId(id), $"127.0.0.1:{8300 + id.Length}", "v1.0.0-" + id);

    private static ChangefeedInfo Changefeed(string id, params long[] tables) => new()
    {
        Id = new ChangefeedId(id),
        Tables = [.. tables.Select(t => new TableId(t))],
        StartTs = new Ts(400_000),
        Epoch = new ChangefeedEpoch(7),
    };

    [Fact(DisplayName = "Membership: a registered capture is alive, with its address and version, for every node")]
    public async Task Register_CaptureIsAliveEverywhere()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        var changes = 0;
        b.Membership.CapturesChanged += () => Interlocked.Increment(ref changes);

        await using var session = await a.Membership.RegisterAsync(Capture("capture-a"), CancellationToken.None);

        await Eventually.HoldsAsync(() => b.Membership.AliveCaptures.ContainsKey(new CaptureId("capture-a")), "node b sees capture-a");
        Assert.Equal(Capture("capture-a"), b.Membership.AliveCaptures[new CaptureId("capture-a")]);
        await Eventually.HoldsAsync(() => a.Membership.AliveCaptures.ContainsKey(new CaptureId("capture-a")), "node a sees capture-a");
        await Eventually.HoldsAsync(() => Volatile.Read(ref changes) > 0, "node b raised CapturesChanged");
        Assert.False(session.Lost.IsCancellationRequested);
    }

    [Fact(DisplayName = "Membership: disposing a session removes the capture and ends the session")]
    public async Task DisposeSession_CaptureIsGone()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        var leaving = await a.Membership.RegisterAsync(Capture("leaving"), CancellationToken.None);
        await using var staying = await a.Membership.RegisterAsync(Capture("staying"), CancellationToken.None);
        await Eventually.HoldsAsync(() => b.Membership.AliveCaptures.Count == 2, "both captures are alive");

        await leaving.DisposeAsync();

        await Eventually.HoldsAsync(() => !b.Membership.AliveCaptures.ContainsKey(new CaptureId("leaving")), "node b no longer sees 'leaving'");
        Assert.True(b.Membership.AliveCaptures.ContainsKey(new CaptureId("staying")));
        Assert.True(leaving.Lost.IsCancellationRequested);
        Assert.False(staying.Lost.IsCancellationRequested);
    }

    [Fact(DisplayName = "Membership: a session lost without the capture's help is reported through Lost")]
    public async Task LoseSession_LostIsCancelled()
    {
        var a = await Harness.AddNodeAsync();
        await using var session = await a.Membership.RegisterAsync(Capture("doomed"), CancellationToken.None);

        await Harness.LoseSessionAsync(session);

        await Eventually.CancelledAsync(session.Lost, "the session reports it was lost");
    }

    [Fact(DisplayName = "Election: the first campaigner wins; the second wins only after the first resigns, with a larger revision")]
    public async Task SecondCampaigner_WinsAfterResign_WithLargerRevision()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(Capture("b"), CancellationToken.None);

        var first = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins the free election");
        var second = b.Election.CampaignAsync(sessionB, CancellationToken.None);
        var owner = await b.Election.GetOwnerAsync(CancellationToken.None);
        Assert.Equal(new OwnerInfoRecord(new CaptureId("a"), first.Revision), owner);
        Assert.False(second.IsCompleted, "b must not win while a owns");

        await first.ResignAsync(CancellationToken.None);

        Assert.True(first.Lost.IsCancellationRequested);
        var next = await Eventually.CompletesAsync(second, "b wins after a resigned");
        Assert.Equal(new CaptureId("b"), next.Owner);
        Assert.True(next.Revision > first.Revision, $"revision {next.Revision} must exceed {first.Revision}");
        Assert.True(first.Revision.Value >= 1);
        Assert.Equal(new OwnerInfoRecord(new CaptureId("b"), next.Revision), await a.Election.GetOwnerAsync(CancellationToken.None));
        await next.DisposeAsync();
    }

    [Fact(DisplayName = "Election: when the owner's session is lost its term ends and the waiting campaigner wins")]
    public async Task OwnerSessionLost_NextCampaignerWins()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(Capture("b"), CancellationToken.None);
        var first = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins");
        var second = b.Election.CampaignAsync(sessionB, CancellationToken.None);

        await Harness.LoseSessionAsync(sessionA);

        await Eventually.CancelledAsync(first.Lost, "a's term ends");
        var next = await Eventually.CompletesAsync(second, "b wins after a's session was lost");
        Assert.True(next.Revision > first.Revision);
        await next.DisposeAsync();
    }

    [Fact(DisplayName = "Election: a cancelled campaign is withdrawn and never wins; the next one does")]
    public async Task CancelledCampaign_IsWithdrawn()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        var c = await Harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(Capture("b"), CancellationToken.None);
        await using var sessionC = await c.Membership.RegisterAsync(Capture("c"), CancellationToken.None);
        var first = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins");
        using var cancelB = new CancellationTokenSource();
        var campaignB = b.Election.CampaignAsync(sessionB, cancelB.Token);
        await Eventually.HoldsAsync(async () => await Harness.CampaignCountAsync() == 2, "b campaigns");
        var campaignC = c.Election.CampaignAsync(sessionC, CancellationToken.None);

        await cancelB.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => campaignB);
        await first.ResignAsync(CancellationToken.None);

        var next = await Eventually.CompletesAsync(campaignC, "c wins after a resigned");
        Assert.Equal(new CaptureId("c"), next.Owner);
        await next.DisposeAsync();
    }

    [Fact(DisplayName = "Election: campaigning with a lost session fails with OperationCanceledException")]
    public async Task CampaignWithLostSession_Throws()
    {
        var a = await Harness.AddNodeAsync();
        await using var session = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await Harness.LoseSessionAsync(session);
        await Eventually.CancelledAsync(session.Lost, "the session is lost");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Election.CampaignAsync(session, CancellationToken.None));
    }

    [Fact(DisplayName = "Metadata: a deposed owner's status write returns false and writes nothing")]
    public async Task DeposedOwner_CannotWriteStatus()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(Capture("b"), CancellationToken.None);
        var feed = new ChangefeedId("feed");
        await a.Store.PutChangefeedAsync(Changefeed("feed", 1, 2), CancellationToken.None);
        var oldOwner = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins");
        Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(100), new Ts(110)), oldOwner, CancellationToken.None));
        var campaignB = b.Election.CampaignAsync(sessionB, CancellationToken.None);
        await Harness.LoseSessionAsync(sessionA);
        var newOwner = await Eventually.CompletesAsync(campaignB, "b takes over");
        Assert.True(await b.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(200), new Ts(210)), newOwner, CancellationToken.None));

        var written = await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(900), new Ts(910)), oldOwner, CancellationToken.None);

        Assert.False(written);
        Assert.Equal(new ChangefeedStatus(new Ts(200), new Ts(210)), await b.Store.GetStatusAsync(feed, CancellationToken.None));
        await newOwner.DisposeAsync();
    }

    [Fact(DisplayName = "Metadata: a resigned owner cannot write status even while nobody else owns")]
    public async Task ResignedOwner_CannotWriteStatus()
    {
        var a = await Harness.AddNodeAsync();
        await using var session = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        var owner = await Eventually.CompletesAsync(a.Election.CampaignAsync(session, CancellationToken.None), "a wins");
        await owner.ResignAsync(CancellationToken.None);

        var written = await a.Store.TryPutStatusAsync(new ChangefeedId("feed"), new ChangefeedStatus(new Ts(5), new Ts(6)), owner, CancellationToken.None);

        Assert.False(written);
        Assert.Null(await a.Store.GetStatusAsync(new ChangefeedId("feed"), CancellationToken.None));
    }

    [Fact(DisplayName = "Metadata: a status write never lowers the stored checkpoint")]
    public async Task StatusWrite_NeverLowersCheckpoint()
    {
        var a = await Harness.AddNodeAsync();
        await using var session = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var owner = await Eventually.CompletesAsync(a.Election.CampaignAsync(session, CancellationToken.None), "a wins");
        var feed = new ChangefeedId("feed");
        Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(500), new Ts(520)), owner, CancellationToken.None));

        Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(300), new Ts(310)), owner, CancellationToken.None));
        Assert.Equal(new ChangefeedStatus(new Ts(500), new Ts(500)), await a.Store.GetStatusAsync(feed, CancellationToken.None));

        Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(600), new Ts(650)), owner, CancellationToken.None));
        Assert.Equal(new ChangefeedStatus(new Ts(600), new Ts(650)), await a.Store.GetStatusAsync(feed, CancellationToken.None));
    }

    [Fact(DisplayName = "Metadata: concurrent status writes of the owner keep the largest checkpoint")]
    public async Task ConcurrentStatusWrites_KeepLargestCheckpoint()
    {
        var a = await Harness.AddNodeAsync();
        await using var session = await a.Membership.RegisterAsync(Capture("a"), CancellationToken.None);
        await using var owner = await Eventually.CompletesAsync(a.Election.CampaignAsync(session, CancellationToken.None), "a wins");
        var feed = new ChangefeedId("feed");
        // Writer w writes checkpoints w, w+4, w+8, ...; interleaved they go up and down.
        var writers = Enumerable.Range(1, 4).Select(w => Task.Run(async () =>
        {
            for (var ts = (ulong)w; ts <= 60; ts += 4)
            {
                Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(ts), new Ts(ts)), owner, CancellationToken.None));
            }
        }));

        await Eventually.CompletesAsync(Task.WhenAll(writers).ContinueWith(t => t.Exception is null ? 0 : throw t.Exception), "the writers finish");

        Assert.Equal(new Ts(60), (await a.Store.GetStatusAsync(feed, CancellationToken.None))!.CheckpointTs);
    }

    [Fact(DisplayName = "Metadata: changefeeds can be created, read, listed, replaced and removed (with their status)")]
    public async Task Changefeed_Crud()
    {
        var a = await Harness.AddNodeAsync();
        var b = await Harness.AddNodeAsync();
        var ct = CancellationToken.None;
        await using var session = await a.Membership.RegisterAsync(Capture("a"), ct);
        await using var owner = await Eventually.CompletesAsync(a.Election.CampaignAsync(session, ct), "a wins");
        Assert.Null(await b.Store.GetChangefeedAsync(new ChangefeedId("one"), ct));
        Assert.Empty(await b.Store.ListChangefeedsAsync(ct));

        await a.Store.PutChangefeedAsync(Changefeed("one", 1, 2, 3), ct);
        await a.Store.PutChangefeedAsync(Changefeed("two", 9), ct);
        await a.Store.PutChangefeedAsync(Changefeed("one", 1, 2, 3, 4) with { Epoch = new ChangefeedEpoch(8) }, ct);
        Assert.True(await a.Store.TryPutStatusAsync(new ChangefeedId("one"), new ChangefeedStatus(new Ts(10), new Ts(11)), owner, ct));

        var one = await b.Store.GetChangefeedAsync(new ChangefeedId("one"), ct);
        Assert.NotNull(one);
        Assert.Equal([1L, 2, 3, 4], one.Tables.Select(t => t.Value));
        Assert.Equal(new Ts(400_000), one.StartTs);
        Assert.Equal(new ChangefeedEpoch(8), one.Epoch);
        Assert.Equal(["one", "two"], (await b.Store.ListChangefeedsAsync(ct)).Select(f => f.Id.Value));

        Assert.True(await b.Store.RemoveChangefeedAsync(new ChangefeedId("one"), ct));
        Assert.False(await b.Store.RemoveChangefeedAsync(new ChangefeedId("one"), ct));
        Assert.Null(await a.Store.GetChangefeedAsync(new ChangefeedId("one"), ct));
        Assert.Null(await a.Store.GetStatusAsync(new ChangefeedId("one"), ct));
        Assert.Equal(["two"], (await a.Store.ListChangefeedsAsync(ct)).Select(f => f.Id.Value));
    }
}
