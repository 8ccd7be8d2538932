namespace Capstan.Api.Tests;

using System.Net;
using System.Net.Http.Json;
using System.Text;
using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;

/// <summary>A stepped embedded cluster with the API of the whole cluster on one in-memory server.</summary>
internal sealed class ApiEnv : IAsyncDisposable
{
    private ApiEnv(SteppedCluster cluster, ApiServer server)
    {
        Stepped = cluster;
        Server = server;
    }

    public SteppedCluster Stepped { get; }

    public EmbeddedCluster Cluster => Stepped.Cluster;

    public ApiServer Server { get; }

    public HttpClient Client => Server.Client;

    public string Changefeed => Stepped.Changefeed.Id.Value;

    public static async Task<ApiEnv> StartAsync(int captures = 3, int tables = 12, Action<CapstanApiOptions>? configure = null, bool kestrel = false, ulong seed = 7)
    {
        var cluster = await SteppedCluster.StartAsync(captures, tables, seed);
        var server = await ApiServer.StartAsync(EmbeddedClusterApiContext.Create(cluster.Cluster), configure, kestrel);
        return new ApiEnv(cluster, server);
    }

    public Task<T> GetAsync<T>(string path) => Server.GetAsync<T>(path);

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>The primary of a table as the owner sees it.</summary>
    public async Task<TableDto> TableAsync(long table) => await GetAsync<TableDto>($"/api/v2/changefeeds/{Changefeed}/tables/{table}");

    /// <summary>A capture that is not the owner and does not hold <paramref name="table"/>.</summary>
    public async Task<string> OtherCaptureAsync(long table)
    {
        var current = await TableAsync(table);
        foreach (var capture in Cluster.Captures)
        {
            if (capture.Id.Value != current.Primary)
            {
                return capture.Id.Value;
            }
        }

        throw new InvalidOperationException("no other capture");
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Stepped.DisposeAsync();
    }
}

/// <summary>Assertions on problem details.</summary>
internal static class ProblemAssert
{
    public static async Task<ProblemBody> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? detailContains = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ProblemBody>(body, CapstanJson.Options)!;
        Assert.Equal((int)status, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail), body);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, problem.Detail, StringComparison.OrdinalIgnoreCase);
        }

        return problem;
    }

    internal sealed record ProblemBody(string? Type, string? Title, int Status, string? Detail);
}
