namespace Capstan.Api.Tests;

using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Capstan.Api.Contracts;
using Capstan.Cli.Demo;

public sealed partial class DemoHttpTests
{
    [Fact(DisplayName = "demo --http: the embedded cluster's API and dashboard are served while the demo runs (--interactive keeps them up)")]
    [Trait("Category", "Integration")]
    public async Task DemoServesTheApi()
    {
        var text = new StringWriter();
        var output = TextWriter.Synchronized(text);
        using var cancel = new CancellationTokenSource();
        var options = new DemoOptions { Captures = 3, Tables = 24, Seed = 5, Fast = true, Interactive = true, HttpPort = 0 };
        var run = Task.Run(() => new DemoRunner(options, new PlainDemoOutput(output)).RunAsync(cancel.Token));
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!text.ToString().Contains("Running until Ctrl+C", StringComparison.Ordinal))
            {
                Assert.False(run.IsCompleted, text.ToString());
                Assert.True(DateTime.UtcNow < deadline, text.ToString());
                await Task.Delay(20);
            }

            var address = new Uri(Address().Match(text.ToString()).Groups[1].Value);
            using var client = new HttpClient { BaseAddress = address };
            var health = (await client.GetFromJsonAsync<HealthDto>("/api/v2/health", CapstanJson.Options))!;
            Assert.Equal("ok", health.Status);
            var captures = (await client.GetFromJsonAsync<List<CaptureDto>>("/api/v2/captures", CapstanJson.Options))!;
            Assert.Single(captures, c => c.IsOwner);
            Assert.Contains("Capstan dashboard", await client.GetStringAsync("/"));
        }
        finally
        {
            await cancel.CancelAsync();
        }

        int exitCode = await run;
        Assert.True(exitCode is 0 or 130, text.ToString());
    }

    [Fact]
    public void DemoOptions_HttpPortOutOfRange_IsRejected()
    {
        Assert.NotNull(new DemoOptions { HttpPort = 70_000 }.Validate());
        Assert.NotNull(new DemoOptions { HttpPort = -1 }.Validate());
        Assert.Null(new DemoOptions { HttpPort = 0 }.Validate());
        Assert.Null(new DemoOptions().Validate());
    }

    [GeneratedRegex(@"dashboard and API at (http://\S+/)")]
    private static partial Regex Address();
}
