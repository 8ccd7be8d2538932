namespace Capstan.Api.Tests;

using Microsoft.Playwright;

/// <summary>A fact that is skipped, with the reason, when Debian's chromium is not installed (scripts/install-deps.sh installs it).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium))
        {
            Skip = $"{Chromium} is missing: run scripts/install-deps.sh (apt package 'chromium') to run the browser test";
        }
    }
}

/// <summary>The dashboard in headless Chromium against a running cluster (Playwright, no browser download).</summary>
[Trait("Category", "Integration")]
public sealed class DashboardBrowserTests
{
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    [ChromiumFact(DisplayName = "Dashboard: shows captures and table counts, a move triggered from the page completes; screenshot saved")]
    public async Task LoadMoveAndScreenshot()
    {
        await using var env = await ApiEnv.StartAsync(captures: 3, tables: 12, kestrel: true);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add($"{message.Text} at {message.Location}");
            }
        };
        await page.GotoAsync(env.Server.BaseAddress.ToString());

        // Captures with their table counts, the owner marked.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid^=capture-capture-]').length === 3", null, Wait());
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('[data-testid^=capture-capture-]')].reduce((s, e) => s + Number(e.dataset.tables), 0) === 12", null, Wait());
        string owner = env.Cluster.OwnerId.Value;
        Assert.Contains("★", await page.Locator($"[data-testid=capture-{owner}]").InnerTextAsync());
        Assert.Equal("12", (await page.Locator("[data-testid=state-Replicating] b").InnerTextAsync()).Trim());
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=tables] tr').length === 12", null, Wait());

        // Move table 6 from the page.
        var before = await env.TableAsync(6);
        string target = await env.OtherCaptureAsync(6);
        await page.Locator("[data-testid=table-6]").ClickAsync();
        Assert.Equal("6", await page.Locator("[data-testid=move-table]").InputValueAsync());
        await page.Locator("[data-testid=move-target]").SelectOptionAsync(target);
        await page.Locator("[data-testid=move-button]").ClickAsync();
        await page.WaitForFunctionAsync(
            $"() => document.querySelector('[data-testid=action-result]').textContent.includes(\"moving table 6 from '{before.Primary}' to '{target}'\")", null, Wait());

        // The move completes: the table row shows it replicating on the target and the timeline shows the phases.
        await page.WaitForFunctionAsync(
            $"() => {{ const row = document.querySelector('[data-testid=table-6]'); return row && row.children[1].textContent === 'Replicating' && row.children[2].textContent === '{target}' && row.children[5].textContent === ''; }}",
            null, Wait());
        await page.WaitForFunctionAsync(
            $"() => document.querySelector('[data-testid=timeline]').textContent.includes('table 6 moveTable done: Replicating on {target}')", null, Wait());
        Assert.Equal(target, (await env.TableAsync(6)).Primary);

        string path = ArtifactPath("dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 10_000, $"screenshot {path} looks empty");
        Assert.Empty(consoleErrors);
    }

    private static PageWaitForFunctionOptions Wait() => new() { Timeout = 60_000, PollingInterval = 100 };

    /// <summary>artifacts/NAME at the repository root (gitignored).</summary>
    private static string ArtifactPath(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Capstan.slnx")))
        {
            directory = directory.Parent;
        }

        var artifacts = Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        return Path.Combine(artifacts, name);
    }
}
