namespace Capstan.Api.Tests;

using System.Net;
using System.Net.Http.Json;
using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Core.Model;
using Microsoft.AspNetCore.TestHost;

/// <summary>One API server per capture; requests to a non-owner are forwarded to the owner.</summary>
public sealed class ForwardingTests
{
    private sealed class PerCaptureServers : IAsyncDisposable
    {
        public SteppedCluster Stepped { get; private init; } = null!;

        public Dictionary<string, ApiServer> Servers { get; } = [];

        public RoutingHandler Router { get; } = new();

        public static async Task<PerCaptureServers> StartAsync(bool kestrel, Action<CapstanApiOptions>? configure = null)
        {
            var result = new PerCaptureServers { Stepped = await SteppedCluster.StartAsync(captures: 3, tables: 9) };
            var addresses = new Dictionary<CaptureId, Uri>();
            foreach (var node in result.Stepped.Cluster.Captures)
            {
                var context = new CaptureNodeApiContext(node, result.Stepped.Cluster.Services,
                    capture => addresses.TryGetValue(capture, out var address) ? address : null);
                var server = await ApiServer.StartAsync(context, configure, kestrel, kestrel ? null : result.Router);
                // In-memory servers all share one base address; give each a distinct host for routing.
                var address = kestrel ? server.BaseAddress : new Uri($"http://{node.Id}.test/");
                addresses[node.Id] = address;
                if (!kestrel)
                {
                    result.Router.Add(address, server.App.GetTestServer().CreateHandler());
                }

                result.Servers[node.Id.Value] = server;
            }

            return result;
        }

        public string Owner => Stepped.Cluster.OwnerId.Value;

        public ApiServer NonOwner => Servers.First(s => s.Key != Owner).Value;

        public async ValueTask DisposeAsync()
        {
            foreach (var server in Servers.Values)
            {
                await server.DisposeAsync();
            }

            await Stepped.DisposeAsync();
        }
    }

    [Fact(DisplayName = "Forwarding: a non-owner relays reads and a move to the owner (1 hop), answers as the owner would")]
    public async Task NonOwnerForwardsToOwner()
    {
        await using var cluster = await PerCaptureServers.StartAsync(kestrel: false);
        var nonOwner = cluster.NonOwner;
        using var captures = await nonOwner.Client.GetAsync("/api/v2/captures");
        Assert.Equal(HttpStatusCode.OK, captures.StatusCode);
        Assert.Equal("1", captures.Headers.GetValues("X-Capstan-Forward-Count").Single());
        var list = (await captures.Content.ReadFromJsonAsync<List<CaptureDto>>(CapstanJson.Options))!;
        Assert.Equal(cluster.Owner, list.Single(c => c.IsOwner).Id);
        Assert.Equal(9, list.Sum(c => c.TableCount));

        var health = await nonOwner.GetAsync<HealthDto>("/api/v2/health");
        Assert.False(health.IsOwner); // health is answered locally
        Assert.Equal(cluster.Owner, health.OwnerId);

        var table = await nonOwner.GetAsync<TableDto>("/api/v2/changefeeds/changefeed-1/tables/4");
        string target = list.First(c => c.Id != table.Primary).Id;
        using var move = await nonOwner.Client.PostAsJsonAsync("/api/v2/changefeeds/changefeed-1/tables/move_table",
            new MoveTableRequest(target, 4), CapstanJson.Options);
        Assert.Equal(HttpStatusCode.Accepted, move.StatusCode);
        await cluster.Stepped.WaitUntilAsync(() =>
        {
            var now = nonOwner.GetAsync<TableDto>("/api/v2/changefeeds/changefeed-1/tables/4").GetAwaiter().GetResult();
            return now.Primary == target && now.State == "Replicating";
        }, "table 4 moved through a non-owner");

        using var refused = await nonOwner.Client.PostAsJsonAsync("/api/v2/changefeeds/changefeed-1/tables/move_table",
            new MoveTableRequest(target, 4), CapstanJson.Options);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, "already replicated");
        Assert.True(cluster.Router.Forwarded >= 5);
    }

    [Fact(DisplayName = "Forwarding: a request already forwarded twice is not forwarded again (503, at most 2 hops)")]
    public async Task HopLimit()
    {
        await using var cluster = await PerCaptureServers.StartAsync(kestrel: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/captures");
        request.Headers.Add("X-Capstan-Forward-Count", "2");
        using var response = await cluster.NonOwner.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable, "forwarded 2 times");
        Assert.Equal(0, cluster.Router.Forwarded);

        using var bad = new HttpRequestMessage(HttpMethod.Get, "/api/v2/captures");
        bad.Headers.Add("X-Capstan-Forward-Count", "many");
        await ProblemAssert.IsProblemAsync(await cluster.NonOwner.Client.SendAsync(bad), HttpStatusCode.BadRequest, "X-Capstan-Forward-Count");

        // At the owner the count does not matter: it answers.
        using var atOwner = new HttpRequestMessage(HttpMethod.Get, "/api/v2/captures");
        atOwner.Headers.Add("X-Capstan-Forward-Count", "2");
        Assert.Equal(HttpStatusCode.OK, (await cluster.Servers[cluster.Owner].Client.SendAsync(atOwner)).StatusCode);
    }

    [Fact(DisplayName = "Forwarding: the owner's address unreachable → 502 problem naming the owner's address")]
    public async Task OwnerUnreachable()
    {
        await using var cluster = await PerCaptureServers.StartAsync(kestrel: false);
        var router = cluster.Router;
        var ownerServer = cluster.Servers[cluster.Owner];
        router.Remove(new Uri($"http://{cluster.Owner}.test/")); // the transport of the forward now fails
        await ProblemAssert.IsProblemAsync(await cluster.NonOwner.Client.GetAsync("/api/v2/changefeeds"), HttpStatusCode.BadGateway, $"{cluster.Owner}.test");
        Assert.Equal(HttpStatusCode.OK, (await ownerServer.Client.GetAsync("/api/v2/changefeeds")).StatusCode);
    }

    [Fact(DisplayName = "Forwarding over real sockets: drain sent to a non-owner Kestrel endpoint reaches the owner")]
    [Trait("Category", "Integration")]
    public async Task KestrelForwarding()
    {
        await using var cluster = await PerCaptureServers.StartAsync(kestrel: true);
        var nonOwner = cluster.NonOwner;
        string victim = cluster.Servers.Keys.First(id => id != cluster.Owner);
        using var response = await nonOwner.Client.PostAsync($"/api/v2/captures/{victim}/drain", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("X-Capstan-Forward-Count").Single());
        var drain = (await response.Content.ReadFromJsonAsync<DrainResponseDto>(CapstanJson.Options))!;
        Assert.True(drain.CurrentTableCount >= 0);
        var owner = await nonOwner.GetAsync<OwnerDto>("/api/v2/owner");
        Assert.Equal(cluster.Owner, owner.Id);
        await ProblemAssert.IsProblemAsync(await nonOwner.Client.PostAsync($"/api/v2/captures/{cluster.Owner}/drain", null),
            HttpStatusCode.BadRequest, "cannot drain the owner");
    }
}
