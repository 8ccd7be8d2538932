namespace Capstan.Api.Tests;

using System.Net;
using System.Net.Http.Json;
using Capstan.Api.Contracts;
using Capstan.Api.Endpoints;
using Capstan.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>The API hosted for a test: in memory (TestServer) or on a real Kestrel socket at 127.0.0.1:0.</summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private static int _instances;

    private ApiServer(WebApplication app, HttpClient client, Uri baseAddress)
    {
        App = app;
        Client = client;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>Starts a server. <paramref name="forwardHandler"/> replaces the transport of forwarded requests (in-memory forwarding).</summary>
    public static async Task<ApiServer> StartAsync(
        ICaptureApiContext context, Action<CapstanApiOptions>? configure = null, bool kestrel = false, HttpMessageHandler? forwardHandler = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        int instance = Interlocked.Increment(ref _instances);
        builder.Services.AddCapstanApi(context, options =>
        {
            // One meter name per server: servers in one test process must not see each other's instruments.
            options.MeterName = $"Capstan.Test{instance}";
            options.ActivityInterval = TimeSpan.FromMilliseconds(20);
            configure?.Invoke(options);
        });
        if (forwardHandler is not null)
        {
            builder.Services.AddHttpClient(OwnerOnlyFilter.ClientName).ConfigurePrimaryHttpMessageHandler(() => forwardHandler);
        }

        var app = builder.Build();
        app.MapCapstanApi();
        await app.StartAsync();
        if (kestrel)
        {
            var address = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new ApiServer(app, new HttpClient { BaseAddress = address }, address);
        }

        var client = app.GetTestClient();
        return new ApiServer(app, client, client.BaseAddress!);
    }

    public async Task<T> GetAsync<T>(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(CapstanJson.Options))!;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Routes forwarded requests to in-memory servers by host:port.</summary>
internal sealed class RoutingHandler : DelegatingHandler
{
    private readonly Dictionary<string, HttpMessageHandler> _routes = new(StringComparer.OrdinalIgnoreCase);

    public int Forwarded { get; private set; }

    public void Add(Uri address, HttpMessageHandler handler) => _routes[address.Authority] = handler;

    public void Remove(Uri address) => _routes.Remove(address.Authority);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Forwarded++;
        if (!_routes.TryGetValue(request.RequestUri!.Authority, out var handler))
        {
            throw new HttpRequestException($"no route to {request.RequestUri}");
        }

        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        return invoker.SendAsync(request, cancellationToken);
    }
}
