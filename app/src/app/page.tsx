export default function Home() {
  return (
    <main>
      <h1>DiaspoMoney</h1>
      <p>Transferts d&apos;argent pour la diaspora.</p>
    </main>
  );
}
