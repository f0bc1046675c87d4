using Eddy.Config;

namespace Eddy.Host.Tests;

/// <summary>docs/configuration.md lists exactly the properties `eddy start` reads.</summary>
public class ConfigurationDocTests
{
    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Core.sln")))
            {
                return Path.Combine(dir.FullName, relative);
            }
        }
        throw new FileNotFoundException($"no Core.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void TheDocHoldsThePropertyTableAsTheCodeWritesIt()
    {
        string doc = File.ReadAllText(RepositoryFile("docs/configuration.md")).ReplaceLineEndings("\n");
        string table = NodeProperties.MarkdownTable().ReplaceLineEndings("\n");
        Assert.True(doc.Contains(table, StringComparison.Ordinal),
            $"docs/configuration.md is out of step with NodeProperties; its property table should read:\n\n{table}");
    }

    [Fact]
    public void TheDocHoldsTheClusterPropertyTableAsTheCodeWritesIt()
    {
        string doc = File.ReadAllText(RepositoryFile("docs/configuration.md")).ReplaceLineEndings("\n");
        string table = Eddy.Cluster.ClusterProperties.MarkdownTable().ReplaceLineEndings("\n");
        Assert.True(doc.Contains(table, StringComparison.Ordinal),
            $"docs/configuration.md is out of step with ClusterProperties; its cluster property table should read:\n\n{table}");
    }

    [Fact]
    public void TheReadmeNamesEveryFlag()
    {
        string readme = File.ReadAllText(RepositoryFile("README.md"));
        Assert.All(NodeProperties.All, p => Assert.Contains($"`{p.Flag}", readme));
    }

    [Fact]
    public void TheHelpNamesEveryFlag()
    {
        string help = NodeProperties.Help();
        foreach (var property in NodeProperties.All)
        {
            Assert.Contains($"  {property.Flag} ", help.Replace("[=", " [=", StringComparison.Ordinal));
        }
        Assert.Contains("  --config FILE", help);
    }
}
