namespace Capstan.Server;

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Capstan.Api;
using Capstan.Core.Model;
using Capstan.Server.Configuration;
using Capstan.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

/// <summary>
/// <c>capstan server</c>: one capture per process on the ASP.NET Core generic host. Kestrel listens
/// on two endpoints — <c>addr</c> (HTTP/2 only: the gRPC transport between captures) and <c>http</c>
/// (HTTP/1: health, status, changefeed bootstrap, the operator API — /api/v2, /metrics, the
/// dashboard). The capture joins the cluster once both are bound.
/// </summary>
public static class CapstanServer
{
    /// <summary>Runs the server until the capture left the cluster; returns the process exit code.</summary>
    public static async Task<int> RunAsync(LoadedSettings loaded, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var settings = loaded.Settings;
        using var dataDir = settings.DataDir is { } path ? DataDirectory.Open(path) : null;
        var captureId = new CaptureId(settings.CaptureId ?? dataDir?.CaptureId() ?? CaptureIds.Generate());
        CheckAdvertisable(settings);
        var context = new ServerContext(settings, captureId);
        await using var app = Build(context);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Capstan.Server");
        foreach (var warning in loaded.Warnings)
        {
            log.LogWarning("{Warning}", warning);
        }

        log.LogInformation("capture {Capture} connecting to the cluster ({Mode}); table executors are simulated (no real upstream)",
            captureId, settings.IsEmbedded ? "embedded, in-process" : "etcd " + settings.EtcdEndpoints());
        await using var edges = await ClusterEdges.ConnectAsync(settings, app.Services.GetRequiredService<ILoggerFactory>(), cancellationToken)
            .ConfigureAwait(false);
        edges.Metadata.Logger = log;
        context.Edges = edges;
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Console logging as single lines with a timestamp, at <paramref name="level"/> and above.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging, LogLevel level)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = false;
        });
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    }

    private static WebApplication Build(ServerContext context)
    {
        var settings = context.Settings;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        ConfigureLogging(builder.Logging, settings.LogLevel);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureCapstanGrpcEndpoint(Endpoints.ParseListen(settings.Addr, "addr"), settings.Tls?.ToTransport());
            kestrel.Listen(Endpoints.ParseListen(settings.Http, "http"), listen =>
            {
                listen.Protocols = settings.Tls is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                if (settings.Tls is { } tls)
                {
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(tls.Cert, tls.Key));
                }
            });
        });
        var transportOptions = settings.Transport with { Tls = settings.Tls?.ToTransport() };
        builder.Services.AddSingleton(context);
        builder.Services.AddCapstanGrpcTransport(provider =>
            new GrpcTransport(context.CaptureId, context.ResolveGrpc, transportOptions, provider.GetService<ILoggerFactory>()));
        builder.Services.AddSingleton(provider =>
        {
            var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Capstan.Capture");
            return new CaptureSupervisor(() => context.CaptureServices(provider.GetRequiredService<GrpcTransport>(), logger), logger);
        });
        builder.Services.AddCapstanApi(new ServerApiContext(context), api => CopyApiOptions(settings.Api, api));
        builder.Services.AddSingleton<IHostLifetime, DrainingLifetime>();
        builder.Services.AddHostedService<SupervisorService>();
        builder.Services.Configure<HostOptions>(host =>
        {
            host.ShutdownTimeout = TimeSpan.FromSeconds(10);

            // An auxiliary background service (metrics, activity) that fails must not stop the capture.
            host.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
        });
        if (settings.Tls?.Ca is { } ca)
        {
            // The API forwards owner-only requests to the owner's https:// address: trust the cluster's CA.
            builder.Services.AddHttpClient(ApiForwardingClient).ConfigurePrimaryHttpMessageHandler(() => TrustingHandler(ca));
        }


        var app = builder.Build();
        context.ServiceProvider = app.Services;
        app.MapCapstanGrpcTransport();
        app.MapCapstanServerEndpoints();
        app.MapCapstanApi();
        return app;
    }

    /// <summary>The name of the HTTP client the operator API forwards requests to the owner with.</summary>
    private const string ApiForwardingClient = "capstan-forward";

    private static SocketsHttpHandler TrustingHandler(string caPemPath)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caPemPath);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(loaded);
        };
        return handler;
    }

    /// <summary>Copies every settable option (token, timeouts, limits) from the settings to the API's options.</summary>
    private static void CopyApiOptions(CapstanApiOptions from, CapstanApiOptions to)
    {
        foreach (var property in typeof(CapstanApiOptions).GetProperties())
        {
            if (property.CanWrite && property.CanRead)
            {
                property.SetValue(to, property.GetValue(from));
            }
        }
    }

    /// <summary>A listen address on every interface needs an advertised address peers can dial.</summary>
    private static void CheckAdvertisable(ServerSettings settings)
    {
        if (settings.AdvertiseAddr is null && Endpoints.IsUnspecified(Endpoints.ParseListen(settings.Addr, "addr").Address))
        {
            throw new SettingsException($"addr: {settings.Addr} listens on every interface; set advertise-addr to the address other captures dial");
        }

        if (settings.AdvertiseHttp is null && Endpoints.IsUnspecified(Endpoints.ParseListen(settings.Http, "http").Address))
        {
            throw new SettingsException($"http: {settings.Http} listens on every interface; set advertise-http to the address clients use");
        }
    }
}
