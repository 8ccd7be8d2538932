namespace Capstan.Api;

using System.Net;
using Capstan.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// A ready-made Kestrel host of the operator surface on one HTTP/1 endpoint (API, /metrics,
/// dashboard), for <c>capstan demo --http</c> and <c>capstan server</c>. Dispose to stop it.
/// </summary>
public sealed class CapstanWebHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CapstanWebHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The bound address (with the real port when 0 was asked).</summary>
    public Uri Address { get; }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts serving <paramref name="context"/> on <paramref name="endpoint"/> (port 0 picks a free port).</summary>
    public static async Task<CapstanWebHost> StartAsync(
        ICaptureApiContext context, IPEndPoint endpoint, Action<CapstanApiOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endpoint, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Services.AddCapstanApi(context, configure);
        var app = builder.Build();
        app.MapCapstanApi();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CapstanWebHost(app, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
