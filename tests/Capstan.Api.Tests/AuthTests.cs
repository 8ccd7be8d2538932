namespace Capstan.Api.Tests;

using System.Net;
using System.Net.Http.Headers;

public sealed class AuthTests
{
    private const string Token = "s3cret-token";

    [Fact(DisplayName = "Auth: with a token, mutating endpoints need 'Bearer <token>' (401 otherwise); reads and /metrics stay open")]
    public async Task MutationsNeedToken()
    {
        await using var env = await ApiEnv.StartAsync(captures: 2, tables: 2, configure: o => o.Token = Token);
        using var anonymous = await env.Client.PostAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/rebalance_table", null);
        await ProblemAssert.IsProblemAsync(anonymous, HttpStatusCode.Unauthorized, "Bearer");
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, $"/api/v2/changefeeds/{env.Changefeed}/tables/rebalance_table");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "nope");
        await ProblemAssert.IsProblemAsync(await env.Client.SendAsync(wrong), HttpStatusCode.Unauthorized);

        using var right = new HttpRequestMessage(HttpMethod.Post, $"/api/v2/changefeeds/{env.Changefeed}/tables/rebalance_table");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.Accepted, (await env.Client.SendAsync(right)).StatusCode);

        foreach (var path in new[] { "/api/v2/captures", "/api/v2/changefeeds", "/api/v2/health", "/metrics", "/" })
        {
            Assert.Equal(HttpStatusCode.OK, (await env.Client.GetAsync(path)).StatusCode);
        }

        foreach (var (method, path) in new[] { ("POST", "/api/v2/changefeeds"), ("DELETE", "/api/v2/changefeeds/changefeed-1"), ("POST", "/api/v2/owner/resign"), ("POST", "/api/v2/captures/capture-2/drain") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            Assert.Equal(HttpStatusCode.Unauthorized, (await env.Client.SendAsync(request)).StatusCode);
        }
    }

    [Fact(DisplayName = "Auth: ProtectReads and ProtectMetrics close reads and /metrics too; the token opens them")]
    public async Task ProtectReadsAndMetrics()
    {
        await using var env = await ApiEnv.StartAsync(captures: 1, tables: 1, configure: o =>
        {
            o.Token = Token;
            o.ProtectReads = true;
            o.ProtectMetrics = true;
        });
        await ProblemAssert.IsProblemAsync(await env.Client.GetAsync("/api/v2/captures"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await env.Client.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        env.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await env.Client.GetAsync("/api/v2/captures")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await env.Client.GetAsync("/metrics")).StatusCode);
    }
}
